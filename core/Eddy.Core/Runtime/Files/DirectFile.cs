using System.Runtime.CompilerServices;
using Eddy.Buffers;
using Eddy.Native;
using Eddy.Runtime.IO;

namespace Eddy.Runtime.Files;

/// <summary>
/// A file opened with O_DIRECT and driven by its shard's reactor: reads, writes and fdatasync never block the
/// shard thread. Every buffer address, file offset and length must be aligned to what the filesystem asks
/// (statx DIOALIGN, 4096 where unknown); a misaligned request fails before reaching the kernel and names the
/// alignment. Opening and closing are synchronous metadata calls.
/// </summary>
public sealed class DirectFile : IDisposable
{
    private readonly Shard _shard;
    private readonly IoBackend _io;
    private int _fd;

    private DirectFile(Shard shard, string path, int fd, int memoryAlignment, int offsetAlignment)
    {
        _shard = shard;
        _io = shard.Io;
        Path = path;
        _fd = fd;
        MemoryAlignment = Math.Max(memoryAlignment, 1);
        OffsetAlignment = Math.Max(offsetAlignment, 1);
    }

    public string Path { get; }

    /// <summary>Required alignment of buffer addresses, in bytes.</summary>
    public int MemoryAlignment { get; }

    /// <summary>Required alignment of file offsets and lengths, in bytes.</summary>
    public int OffsetAlignment { get; }

    /// <summary>Opens <paramref name="path"/> for direct I/O on the calling shard.</summary>
    public static DirectFile Open(string path, bool create = true, bool readOnly = false)
    {
        var shard = Shard.Current ?? throw new InvalidOperationException("DirectFile is opened on a shard");
        int fd = DirectIo.Open(path, create, readOnly);
        var (memory, offset) = DirectIo.Alignment(path);
        return new DirectFile(shard, path, fd, memory, offset);
    }

    /// <summary>fsyncs a directory through the calling shard's reactor, so that names created, renamed or removed
    /// in it survive a crash.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask SyncDirectoryAsync(string path)
    {
        var shard = Shard.Current ?? throw new InvalidOperationException("SyncDirectoryAsync runs on a shard");
        int fd = DirectIo.OpenDirectory(path);
        try
        {
            NativeException.ThrowIfError(await shard.Io.SyncAsync(fd, dataOnly: false), $"fsync({path})");
        }
        finally
        {
            DirectIo.Close(fd);
        }
    }

    /// <summary>The file's size in bytes (statx).</summary>
    public long Size => DirectIo.Size(Path);

    /// <summary>Reads up to <paramref name="length"/> bytes at <paramref name="fileOffset"/> into the buffer at
    /// <paramref name="bufferOffset"/>; returns the bytes read (fewer at end of file).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset)
    {
        Validate(buffer, bufferOffset, length, fileOffset, "read");
        int n = await _io.ReadAsync(_fd, buffer.Address + bufferOffset, length, fileOffset, buffer.RegisteredIndex);
        // The operation's name is formatted only on failure: the success path allocates nothing.
        return n >= 0 ? n : throw new NativeException($"read({Path} @ {fileOffset})", -n);
    }

    /// <summary>Writes <paramref name="length"/> bytes from the buffer at <paramref name="bufferOffset"/> to
    /// <paramref name="fileOffset"/>; with <paramref name="dataSync"/>, completes only after fdatasync
    /// (linked to the write on io_uring).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset, bool dataSync = false)
    {
        Validate(buffer, bufferOffset, length, fileOffset, "write");
        int done = 0;
        while (done < length)
        {
            // A short write (rare with O_DIRECT) continues from an aligned position, or fails if it cannot.
            int n = await _io.WriteAsync(_fd, buffer.Address + bufferOffset + done, length - done, fileOffset + done, buffer.RegisteredIndex, dataSync);
            if (n < 0)
            {
                throw new NativeException(dataSync ? $"write+fdatasync({Path} @ {fileOffset + done})" : $"write({Path} @ {fileOffset + done})", -n);
            }
            if (n == 0 || n % OffsetAlignment != 0 && done + n < length)
            {
                throw new NativeException($"write({Path} @ {fileOffset + done}): short write of {n} bytes", Errno.EIO);
            }
            done += n;
        }
    }

    /// <summary>fdatasync: everything written so far is durable when this completes.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushDataAsync()
    {
        CheckOpen();
        int synced = await _io.SyncAsync(_fd, dataOnly: true);
        if (synced < 0)
        {
            throw new NativeException($"fdatasync({Path})", -synced);
        }
    }

    /// <summary>Reserves space (fallocate, keeping the file size unless <paramref name="extendSize"/>).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask AllocateAsync(long offset, long length, bool extendSize = false)
    {
        CheckOpen();
        const int KeepSize = 0x01;
        int r = await _io.AllocateAsync(_fd, extendSize ? 0 : KeepSize, offset, length);
        if (r < 0)
        {
            throw new NativeException($"fallocate({Path})", -r);
        }
    }

    /// <summary>Sets the file's size (ftruncate), freeing blocks past it. A synchronous metadata call like open and
    /// close: storage uses it rarely (recovery, truncating a log's suffix, closing a segment).</summary>
    public void Truncate(long length)
    {
        CheckOpen();
        NativeException.ThrowIfError(DirectIo.Truncate(_fd, length), $"ftruncate({Path}, {length})");
    }

    private void Validate(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset, string what)
    {
        CheckOpen();
        if ((uint)bufferOffset > (uint)buffer.Length || (uint)length > (uint)(buffer.Length - bufferOffset) || length == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"direct {what} of {length} bytes at {bufferOffset} does not fit a {buffer.Length}-byte buffer");
        }
        if ((buffer.Address + bufferOffset) % MemoryAlignment != 0)
        {
            throw new ArgumentException($"direct {what} needs a buffer address aligned to {MemoryAlignment} bytes; got offset {bufferOffset} into the buffer");
        }
        if (fileOffset % OffsetAlignment != 0 || length % OffsetAlignment != 0)
        {
            throw new ArgumentException($"direct {what} needs file offset and length aligned to {OffsetAlignment} bytes; got offset {fileOffset}, length {length}");
        }
    }

    private void CheckOpen()
    {
        _shard.AssertCurrent();
        ObjectDisposedException.ThrowIf(_fd < 0, this);
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            DirectIo.Close(_fd);
            _fd = -1;
        }
    }
}
