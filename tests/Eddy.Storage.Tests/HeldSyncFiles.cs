using Eddy.Buffers;
using Eddy.Native;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

/// <summary>Wraps the real file layer: counts writes, zero fills and fdatasyncs, can hold writes or fdatasyncs until
/// released, and fails fdatasyncs, the next write or zero fills on demand.</summary>
public sealed class HeldSyncFiles : IFileLayer
{
    private TaskCompletionSource? _syncHold;
    private TaskCompletionSource? _writeHold;

    public int Syncs { get; private set; }

    /// <summary>Data writes; the zero fills the log writes ahead of its data pass straight through, counted apart.</summary>
    public int Writes { get; private set; }

    public int ZeroFills { get; private set; }

    /// <summary>Data writes that ended past the file's size when they started: the ones the zero fill did not reach.</summary>
    public int ExtendingWrites { get; private set; }

    /// <summary>Zero fills fail with this errno (0: none), at their first step: moving the file size.</summary>
    public int FailZeroFillsWith { get; set; }

    public int FailedZeroFills { get; private set; }

    /// <summary>fdatasyncs started from now on wait until <see cref="Release"/>.</summary>
    public void Hold() => _syncHold = new TaskCompletionSource();

    /// <summary>Writes started from now on wait until <see cref="ReleaseWrites"/>.</summary>
    public void HoldWrites() => _writeHold = new TaskCompletionSource();

    /// <summary>Lets the held fdatasyncs go on, failing them with EIO when <paramref name="fail"/>.</summary>
    public void Release(bool fail = false)
    {
        Fail = fail;
        Let(ref _syncHold);
    }

    public void ReleaseWrites() => Let(ref _writeHold);

    public bool Fail { get; set; }

    /// <summary>The next write to start fails with this errno (0: none).</summary>
    public int FailNextWriteWith { get; set; }

    public IStorageFile Open(string path, bool create) => new File(DirectFileLayer.Instance.Open(path, create), this);

    public ValueTask SyncDirectoryAsync(string directory) => DirectFileLayer.Instance.SyncDirectoryAsync(directory);

    private static void Let(ref TaskCompletionSource? hold)
    {
        var held = hold;
        hold = null;
        held?.SetResult();
    }

    // Pooled, as IStorageFile's contract asks: the log resumes inline where an fdatasync completes.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SyncAsync(IStorageFile inner)
    {
        Syncs++;
        if (_syncHold is { } hold)
        {
            await hold.Task; // released from the same shard: resumes there
        }
        if (Fail)
        {
            throw new NativeException($"fdatasync({inner.Path})", Errno.EIO);
        }
        await inner.FlushDataAsync();
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ExtendAsync(IStorageFile inner, long offset, long length)
    {
        if (FailZeroFillsWith != 0)
        {
            FailedZeroFills++;
            throw new NativeException($"fallocate({inner.Path})", FailZeroFillsWith);
        }
        await inner.AllocateAsync(offset, length, extendSize: true);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsync(IStorageFile inner, AlignedBuffer buffer, int bufferOffset, int length, long fileOffset)
    {
        if (ReferenceEquals(buffer, Shard.Current!.Buffers.Zeros))
        {
            ZeroFills++;
            await inner.WriteAsync(buffer, bufferOffset, length, fileOffset, false);
            return;
        }
        Writes++;
        if (fileOffset + length > inner.Size)
        {
            ExtendingWrites++;
        }
        int errno = FailNextWriteWith;
        FailNextWriteWith = 0;
        if (errno != 0)
        {
            throw new NativeException($"write({inner.Path})", errno);
        }
        if (_writeHold is { } hold)
        {
            await hold.Task;
        }
        await inner.WriteAsync(buffer, bufferOffset, length, fileOffset, false);
    }

    private sealed class File(IStorageFile inner, HeldSyncFiles files) : IStorageFile
    {
        public string Path => inner.Path;
        public long Size => inner.Size;

        public ValueTask<int> ReadAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset) => inner.ReadAsync(buffer, bufferOffset, length, fileOffset);

        public ValueTask WriteAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset, bool dataSync)
            => dataSync ? throw new InvalidOperationException("the log syncs by group commit, not per write") : files.WriteAsync(inner, buffer, bufferOffset, length, fileOffset);

        public ValueTask FlushDataAsync() => files.SyncAsync(inner);

        public ValueTask AllocateAsync(long offset, long length, bool extendSize)
            => extendSize ? files.ExtendAsync(inner, offset, length) : inner.AllocateAsync(offset, length, extendSize: false);

        public void Truncate(long length) => inner.Truncate(length);

        public void Dispose() => inner.Dispose();
    }
}
