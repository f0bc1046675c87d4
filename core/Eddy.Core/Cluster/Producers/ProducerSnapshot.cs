using System.Globalization;
using Eddy.Buffers;
using Eddy.Runtime;
using Eddy.Runtime.Files;
using Eddy.Storage;

namespace Eddy.Cluster.Producers;

/// <summary>
/// Producer state snapshot files in a partition directory: <c>OFFSET.snapshot</c> holds the state after every
/// batch below OFFSET and none at or after it, so recovery loads it and replays the log from OFFSET. Written
/// durably (a temporary file, fdatasync, rename, directory fsync) through the storage file layer on the calling
/// shard; snapshots are rare, so they are built in managed memory and copied through one pooled aligned buffer.
/// </summary>
public static class ProducerSnapshot
{
    public const string Extension = ".snapshot";
    private const string TempSuffix = ".tmp";
    private const int Page = AlignedBuffer.Alignment;
    private const int ChunkBytes = 1 << 20;

    public static string FileName(long offset) => string.Create(CultureInfo.InvariantCulture, $"{offset}{Extension}");

    /// <summary>The snapshot offsets present in <paramref name="directory"/>, ascending. Runs on a shard.</summary>
    public static async ValueTask<List<long>> ListAsync(string directory)
    {
        var offsets = new List<long>();
        foreach (var path in await ShardFiles().EnumerateFilesAsync(directory, "*" + Extension))
        {
            if (TryParseName(Path.GetFileName(path), out long offset))
            {
                offsets.Add(offset);
            }
        }
        offsets.Sort();
        return offsets;
    }

    public static bool TryParseName(string fileName, out long offset)
    {
        offset = 0;
        return fileName.EndsWith(Extension, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(0, fileName.Length - Extension.Length), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }

    /// <summary>
    /// Writes <paramref name="table"/> as the state at <paramref name="offset"/> (every batch below it recorded, none
    /// at or after it: take it where no append is in flight on the partition), durably, replacing any snapshot at
    /// the same offset, then keeps only the newest <paramref name="keep"/> snapshots. Resets
    /// <see cref="ProducerStateTable.BatchesSinceSnapshot"/>. Runs on the partition's shard.
    /// </summary>
    public static async ValueTask WriteAsync(string directory, ProducerStateTable table, long offset, IFileLayer? files = null, int keep = 2)
    {
        files ??= DirectFileLayer.Instance;
        var pool = (Shard.Current ?? throw new InvalidOperationException("producer snapshots are written on the partition's shard")).Buffers;
        var bytes = ProducerSnapshotFormat.Serialize(table, offset);
        string path = Path.Combine(directory, FileName(offset));
        string temp = path + TempSuffix;
        using (var file = files.Open(temp, create: true))
        {
            file.Truncate(0);
            var buffer = pool.Rent(Math.Min(ChunkBytes, Align(bytes.Length)));
            try
            {
                for (int at = 0; at < bytes.Length;)
                {
                    int n = Math.Min(buffer.Length, bytes.Length - at);
                    var span = buffer.Span;
                    bytes.AsSpan(at, n).CopyTo(span);
                    int length = Align(n);
                    span[n..length].Clear();
                    await file.WriteAsync(buffer, 0, length, at, dataSync: false);
                    at += n;
                }
            }
            finally
            {
                buffer.Return();
            }
            file.Truncate(bytes.Length); // O_DIRECT wrote whole pages: cut the padding
            await file.FlushDataAsync(); // the data and the new size
        }
        await ShardFiles().MoveFileAsync(temp, path, overwrite: true);
        await files.SyncDirectoryAsync(directory);
        table.BatchesSinceSnapshot = 0;
        var all = await ListAsync(directory);
        for (int i = 0; i < all.Count - keep; i++)
        {
            await ShardFiles().DeleteFileAsync(Path.Combine(directory, FileName(all[i])));
        }
    }

    /// <summary>Reads the snapshot at <paramref name="offset"/> into <paramref name="into"/> (which should be empty).
    /// Throws <see cref="CorruptSnapshotException"/> when the file cannot be trusted.</summary>
    public static async ValueTask ReadAsync(string directory, long offset, ProducerStateTable into, IFileLayer? files = null)
    {
        files ??= DirectFileLayer.Instance;
        var pool = (Shard.Current ?? throw new InvalidOperationException("producer snapshots are read on the partition's shard")).Buffers;
        string path = Path.Combine(directory, FileName(offset));
        using var file = files.Open(path, create: false);
        long size = file.Size;
        if (size > ProducerSnapshotFormat.MaxBytes)
        {
            throw new CorruptSnapshotException($"{size} bytes, more than a snapshot may hold");
        }
        var bytes = new byte[size];
        var buffer = pool.Rent(Math.Max(Page, Math.Min(ChunkBytes, Align((int)size))));
        try
        {
            int at = 0;
            while (at < bytes.Length)
            {
                int n = await file.ReadAsync(buffer, 0, buffer.Length, at);
                if (n <= 0)
                {
                    throw new CorruptSnapshotException($"the file ended at byte {at} of {size}");
                }
                n = Math.Min(n, bytes.Length - at);
                buffer.Span[..n].CopyTo(bytes.AsSpan(at));
                at += n;
            }
        }
        finally
        {
            buffer.Return();
        }
        ProducerSnapshotFormat.Parse(bytes, offset, into);
    }

    /// <summary>Deletes snapshots above <paramref name="offset"/>: after the log is truncated to it they describe
    /// batches that are gone (Kafka's truncateAndReload does the same).</summary>
    public static async ValueTask DeleteAboveAsync(string directory, long offset)
    {
        foreach (long found in await ListAsync(directory))
        {
            if (found > offset)
            {
                await ShardFiles().DeleteFileAsync(Path.Combine(directory, FileName(found)));
            }
        }
    }

    /// <summary>Removes temporary files a crash during <see cref="WriteAsync"/> left behind.</summary>
    internal static async ValueTask DeleteTemporariesAsync(string directory)
    {
        foreach (var path in await ShardFiles().EnumerateFilesAsync(directory, "*" + Extension + TempSuffix))
        {
            await ShardFiles().DeleteFileAsync(path);
        }
    }

    private static ShardFiles ShardFiles() => (Shard.Current ?? throw new InvalidOperationException("producer snapshots are kept on the partition's shard")).Files;

    private static int Align(int n) => (n + Page - 1) & ~(Page - 1);
}
