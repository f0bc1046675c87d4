using Eddy.Buffers;
using Eddy.Native;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

/// <summary>Wraps the real file layer, counts fdatasyncs, and can hold them until released or fail them.</summary>
public sealed class HeldSyncFiles : IFileLayer
{
    private TaskCompletionSource? _hold;

    public int Syncs { get; private set; }

    /// <summary>Syncs started while held wait; <see cref="Release"/> lets them (and later ones) run.</summary>
    public void Hold() => _hold = new TaskCompletionSource();

    /// <summary>Lets the held syncs go on, failing them with EIO when <paramref name="fail"/>.</summary>
    public void Release(bool fail = false)
    {
        Fail = fail;
        var hold = _hold;
        _hold = null;
        hold?.SetResult();
    }

    public bool Fail { get; set; }

    public IStorageFile Open(string path, bool create) => new File(DirectFileLayer.Instance.Open(path, create), this);

    public ValueTask SyncDirectoryAsync(string directory) => DirectFileLayer.Instance.SyncDirectoryAsync(directory);

    // Pooled, as IStorageFile's contract asks: the log resumes inline where an fdatasync completes.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SyncAsync(IStorageFile inner)
    {
        Syncs++;
        if (_hold is { } hold)
        {
            await hold.Task; // released from the same shard: resumes there
        }
        if (Fail)
        {
            throw new NativeException($"fdatasync({inner.Path})", Errno.EIO);
        }
        await inner.FlushDataAsync();
    }

    private sealed class File(IStorageFile inner, HeldSyncFiles files) : IStorageFile
    {
        public string Path => inner.Path;
        public long Size => inner.Size;

        public ValueTask<int> ReadAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset) => inner.ReadAsync(buffer, bufferOffset, length, fileOffset);

        public ValueTask WriteAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset, bool dataSync)
            => dataSync ? throw new InvalidOperationException("the log syncs by group commit, not per write") : inner.WriteAsync(buffer, bufferOffset, length, fileOffset, false);

        public ValueTask FlushDataAsync() => files.SyncAsync(inner);

        public ValueTask AllocateAsync(long offset, long length) => inner.AllocateAsync(offset, length);

        public void Truncate(long length) => inner.Truncate(length);

        public void Dispose() => inner.Dispose();
    }
}

/// <summary>Appends written while an fdatasync runs share the next one; none completes before it is durable.</summary>
public sealed class GroupCommitTests
{
    private static async Task Settle() => await Runtime.Shard.Current!.Delay(TimeSpan.FromMilliseconds(30));

    [Fact]
    public async Task AppendsWrittenDuringAnFdatasyncCompleteTogetherAfterTheNextOne()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        var result = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions { Files = files });
            await log.AppendAsync(Batches.Make(2, 100));
            int syncsBefore = files.Syncs;
            files.Hold();
            var first = log.AppendAsync(Batches.Make(2, 100)).AsTask(); // written; its fdatasync is held
            await Settle();
            var later = new List<Task<long>>();
            for (int i = 0; i < 20; i++)
            {
                later.Add(log.AppendAsync(Batches.Make(1, 100)).AsTask()); // written while that fdatasync is held
            }
            await Settle();
            var whileHeld = (first.IsCompleted, later.Any(t => t.IsCompleted), log.DurableOffset, log.LogEndOffset, files.Syncs - syncsBefore);
            files.Release();
            long firstOffset = await first;
            var offsets = await Task.WhenAll(later);
            return (whileHeld, firstOffset, offsets, syncs: files.Syncs - syncsBefore, log.DurableOffset, log.LogEndOffset);
        });
        Assert.False(result.whileHeld.Item1, "an append completed before its fdatasync");
        Assert.False(result.whileHeld.Item2, "an append completed before any fdatasync covered it");
        Assert.Equal(2, result.whileHeld.Item3);
        Assert.Equal(24, result.whileHeld.Item4); // all written: the log end moved while the fdatasync was held
        Assert.Equal(1, result.whileHeld.Item5);
        Assert.Equal(2, result.firstOffset);
        Assert.Equal(Enumerable.Range(4, 20).Select(i => (long)i), result.offsets);
        Assert.Equal(2, result.syncs); // the held one, then one for all twenty
        Assert.Equal(24, result.DurableOffset);
        Assert.Equal(24, result.LogEndOffset);
    }

    [Fact]
    public async Task AFailedGroupCommitFailsEveryAppendWaitingAndStopsTheLog()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        var result = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions { Files = files });
            await log.AppendAsync(Batches.Make(2, 100));
            files.Hold();
            var waiting = new List<Task<long>>();
            for (int i = 0; i < 5; i++)
            {
                waiting.Add(log.AppendAsync(Batches.Make(1, 100)).AsTask());
            }
            await Settle();
            files.Release(fail: true);
            var errors = new List<Exception>();
            foreach (var t in waiting)
            {
                errors.Add(await Assert.ThrowsAsync<LogFailedException>(() => t));
            }
            files.Fail = false; // the disk "recovers": the log must still refuse
            var after = await Assert.ThrowsAsync<LogFailedException>(async () => await log.AppendAsync(Batches.Make(1, 100)));
            return (errors, after, log.DurableOffset, log.LogEndOffset);
        });
        Assert.Equal(5, result.errors.Count);
        Assert.All(result.errors, e => Assert.Contains("stopped", e.Message));
        Assert.Contains("stopped", result.after.Message);
        Assert.Equal(2, result.DurableOffset); // nothing after the last good fdatasync is called durable
        Assert.Equal(7, result.LogEndOffset);
    }

    [Fact]
    public async Task AnAppendWaitsWhenTheUnsyncedBytesWouldPassTheLimit()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        int batchBytes = PartitionLog.UnsyncedLimitBytes / 4 - (64 << 10); // four fit under the limit, five do not
        var result = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions { Files = files, UseBatchCache = false });
            files.Hold();
            var appends = new List<Task<long>>();
            for (int i = 0; i < 6; i++)
            {
                appends.Add(log.AppendAsync(Batches.Make(1, batchBytes)).AsTask());
            }
            await Settle();
            long endWhileHeld = log.LogEndOffset;
            files.Release();
            await Task.WhenAll(appends);
            return (endWhileHeld, log.DurableOffset, log.LogEndOffset);
        });
        Assert.Equal(4, result.endWhileHeld);
        Assert.Equal(6, result.DurableOffset);
        Assert.Equal(6, result.LogEndOffset);
    }
}
