using System.Globalization;
using Eddy.Observability;
using Eddy.Runtime.Files;

namespace Eddy.Storage;

/// <summary>
/// One segment of a partition log: <c>BASEOFFSET-TERM.log</c> (record batches v2 as on the wire, with offsets
/// and term assigned) and its sparse index. Data in [0, <see cref="Size"/>) is complete, checked batches; the
/// file may be longer by zeros while the segment is active (O_DIRECT writes whole pages, and the tail writer fills
/// ahead with zeros). Owned by one shard; reads in flight hold it open, so retention can retire it without pulling
/// the file from under them.
/// </summary>
public sealed class Segment
{
    private int _readers;
    private bool _retired;

    public Segment(string directory, long baseOffset, int term, IStorageFile file, SegmentIndex index, long size, long nextOffset, long createdNanos)
    {
        Directory = directory;
        BaseOffset = baseOffset;
        Term = term;
        File = file;
        Index = index;
        Size = size;
        NextOffset = nextOffset;
        CreatedNanos = createdNanos;
    }

    public string Directory { get; }
    public long BaseOffset { get; }
    public int Term { get; }
    public IStorageFile File { get; }
    public SegmentIndex Index { get; private set; }

    /// <summary>Bytes of complete batches.</summary>
    public long Size { get; internal set; }

    /// <summary>The offset after this segment's last batch (== BaseOffset when empty).</summary>
    public long NextOffset { get; internal set; }

    /// <summary>Shard-clock time the segment was opened for appends (segment.ms rolls on it).</summary>
    public long CreatedNanos { get; }

    /// <summary>True once rolled: no more appends, index written.</summary>
    public bool Sealed { get; internal set; }

    public bool IsEmpty => NextOffset == BaseOffset;

    public string DataPath => Path.Combine(Directory, DataName(BaseOffset, Term));

    public string IndexPath => Path.ChangeExtension(DataPath, ".index");

    public static string DataName(long baseOffset, int term)
        => string.Create(CultureInfo.InvariantCulture, $"{baseOffset}-{term}.log");

    /// <summary>Parses <c>BASEOFFSET-TERM.log</c>; false for anything else (index files, set-aside segments).</summary>
    public static bool TryParseName(string fileName, out long baseOffset, out int term)
    {
        baseOffset = 0;
        term = 0;
        if (!fileName.EndsWith(".log", StringComparison.Ordinal))
        {
            return false;
        }
        var stem = fileName.AsSpan(0, fileName.Length - 4);
        int dash = stem.IndexOf('-');
        return dash > 0
            && long.TryParse(stem[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out baseOffset)
            && int.TryParse(stem[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out term);
    }

    internal void ReplaceIndex(SegmentIndex index)
    {
        Index.Dispose();
        Index = index;
    }

    /// <summary>Marks a read in flight; false when the segment was retired (the caller looks again).</summary>
    public bool TryAcquire()
    {
        if (_retired)
        {
            return false;
        }
        _readers++;
        return true;
    }

    public void Release()
    {
        if (--_readers == 0 && _retired)
        {
            Close();
        }
    }

    /// <summary>Takes the segment out of service: with <paramref name="delete"/>, unlinks its files at once (reads in
    /// flight keep reading through the open descriptor, as Linux allows), and closes it once no read is in flight.
    /// Unlinking now rather than when idle means that a log which fsyncs its directory after retiring segments makes
    /// their removal durable, even while a slow read still holds one.</summary>
    public void Retire(bool delete)
    {
        _retired = true;
        if (delete)
        {
            // Unlinking waits on the filesystem, so the shard's file thread does it. Both calls are made now, so that a
            // log that fsyncs the directory after retiring segments covers them by waiting for what it made since
            // (ShardFiles.BarrierAsync).
            var files = Runtime.Shard.Current!.Files;
            _ = AwaitDeletesAsync(files.DeleteFileAsync(IndexPath), files.DeleteFileAsync(DataPath), DataPath);
        }
        if (_readers == 0)
        {
            Close();
        }
    }

    private void Close()
    {
        File.Dispose();
        Index.Dispose();
    }

    private static async Task AwaitDeletesAsync(ValueTask index, ValueTask data, string dataPath)
    {
        await LogFailureAsync(index, dataPath);
        await LogFailureAsync(data, dataPath); // awaited even after the first failed, so its call goes back to the pool
    }

    private static async Task LogFailureAsync(ValueTask delete, string dataPath)
    {
        try
        {
            await delete;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Error("storage", $"{dataPath}: deleting a retired segment failed ({e.Message})");
        }
    }
}
