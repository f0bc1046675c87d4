using Eddy.Buffers;
using Eddy.Runtime.Files;

namespace Eddy.Storage;

/// <summary>
/// The file operations storage uses, over <see cref="DirectFile"/> in production. An interface so that tests
/// can wrap it and inject faults (EIO from fdatasync, ENOSPC) the real disk will not produce on demand.
/// Contract: every operation completes on the calling shard, and an async implementation uses
/// <see cref="System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder"/>: the append path awaits
/// these with ConfigureAwait(false) (docs/runtime.md, "Awaiting on a shard").
/// </summary>
public interface IStorageFile : IDisposable
{
    string Path { get; }

    long Size { get; }

    ValueTask<int> ReadAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset);

    ValueTask WriteAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset, bool dataSync);

    ValueTask FlushDataAsync();

    /// <summary>Reserves space (fallocate): without changing the size (KEEP_SIZE), or moving it to the end of the
    /// range when <paramref name="extendSize"/>.</summary>
    ValueTask AllocateAsync(long offset, long length, bool extendSize);

    void Truncate(long length);
}

/// <summary>Opens files and makes directory changes durable; the seam where tests inject faults.</summary>
public interface IFileLayer
{
    IStorageFile Open(string path, bool create);

    ValueTask SyncDirectoryAsync(string directory);
}

/// <summary>The real thing: O_DIRECT files driven by the calling shard's reactor (each wrapped in a
/// <see cref="VolatileWriteCache"/> when a fault test asks for one).</summary>
public sealed class DirectFileLayer : IFileLayer
{
    public static readonly DirectFileLayer Instance = new();

    public IStorageFile Open(string path, bool create)
    {
        var file = new File(DirectFile.Open(path, create));
        return VolatileWriteCache.Enabled ? new VolatileWriteCache(file) : file;
    }

    public ValueTask SyncDirectoryAsync(string directory) => DirectFile.SyncDirectoryAsync(directory);

    private sealed class File(DirectFile file) : IStorageFile
    {
        public string Path => file.Path;

        public long Size => file.Size;

        public ValueTask<int> ReadAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset)
            => file.ReadAsync(buffer, bufferOffset, length, fileOffset);

        public ValueTask WriteAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset, bool dataSync)
            => file.WriteAsync(buffer, bufferOffset, length, fileOffset, dataSync);

        public ValueTask FlushDataAsync() => file.FlushDataAsync();

        public ValueTask AllocateAsync(long offset, long length, bool extendSize) => file.AllocateAsync(offset, length, extendSize);

        public void Truncate(long length) => file.Truncate(length);

        public void Dispose() => file.Dispose();
    }
}
