using Eddy.Buffers;
using Eddy.Observability;
using Eddy.Runtime.Files;

namespace Eddy.Storage;

/// <summary>
/// Opens a partition directory's segments. Closed segments load their index, or are scanned in full when it is
/// missing or stale (and the index rewritten). The last segment is always checked batch by batch: a torn tail is
/// cut to the last valid batch (the log says how much went), a segment with no valid batch is set aside
/// (renamed, never deleted), and damage followed by valid data is corruption, which keeps the partition closed,
/// unless it lies where writes not yet fdatasynced could be (<see cref="PartitionLog.UnsyncedLimitBytes"/>).
/// </summary>
internal static class LogRecovery
{
    private const string Subsystem = "storage";

    public static async ValueTask<List<Segment>> OpenAsync(string directory, LogOptions options, BufferPool pool, long nowNanos)
    {
        var files = Runtime.Shard.Current!.Files;
        await files.CreateDirectoryAsync(directory);
        var found = new List<(long Base, int Term, string Path)>();
        foreach (var path in await files.EnumerateFilesAsync(directory, "*.log"))
        {
            if (Segment.TryParseName(Path.GetFileName(path), out long baseOffset, out int term))
            {
                found.Add((baseOffset, term, path));
            }
        }
        found.Sort((a, b) => a.Base.CompareTo(b.Base));
        var segments = new List<Segment>(found.Count + 1);
        try
        {
            for (int i = 0; i < found.Count - 1; i++)
            {
                segments.Add(await OpenClosedAsync(directory, found[i].Base, found[i].Term, options, pool, nowNanos));
            }
            // The last segment: check it; if nothing in it is valid, set it aside and check the one before.
            bool setAside = false;
            for (int i = found.Count - 1; i >= 0; i--)
            {
                if (i < found.Count - 1)
                {
                    var previous = segments[^1];
                    segments.RemoveAt(segments.Count - 1);
                    previous.Retire(delete: false);
                }
                var last = await OpenLastAsync(directory, found[i].Base, found[i].Term, options, pool, nowNanos);
                if (last is not null)
                {
                    segments.Add(last);
                    break;
                }
                setAside = true;
            }
            if (setAside)
            {
                await options.Files.SyncDirectoryAsync(directory);
            }
            for (int i = 1; i < segments.Count; i++)
            {
                if (segments[i].BaseOffset < segments[i - 1].NextOffset)
                {
                    throw new LogCorruptedException($"{directory}: segment {segments[i].DataPath} starts at {segments[i].BaseOffset}, inside the segment before it (which ends at {segments[i - 1].NextOffset})");
                }
            }
            return segments;
        }
        catch
        {
            foreach (var s in segments)
            {
                s.Retire(delete: false);
            }
            throw;
        }
    }

    private static async ValueTask<Segment> OpenClosedAsync(string directory, long baseOffset, int term, LogOptions options, BufferPool pool, long nowNanos)
    {
        string path = Path.Combine(directory, Segment.DataName(baseOffset, term));
        var file = options.Files.Open(path, create: false);
        try
        {
            long size = file.Size;
            var (index, next) = await IndexFile.TryLoadAsync(options.Files, Path.ChangeExtension(path, ".index"), baseOffset, size, pool);
            bool rebuilt = index is null;
            if (index is null)
            {
                var scan = await SegmentScanner.ScanAsync(file, baseOffset, options.IndexIntervalBytes, pool);
                if (scan.DroppedBytes > 0 || scan.ValidBatches == 0 && size > 0)
                {
                    scan.Index.Dispose();
                    throw new LogCorruptedException($"{path}: closed segment fails its check at byte {scan.ValidSize} of {size} ({scan.Damage}); the partition stays closed until it is repaired from a replica");
                }
                if (scan.FileSize != scan.ValidSize)
                {
                    file.Truncate(scan.ValidSize); // zeros left by a roll cut short
                }
                index = scan.Index;
                next = scan.NextOffset;
                size = scan.ValidSize;
                Log.Info(Subsystem, $"{path}: index missing or stale, rebuilt from {scan.ValidBatches} batches");
            }
            index.Seal();
            var segment = new Segment(directory, baseOffset, term, file, index, size, next, nowNanos) { Sealed = true };
            if (rebuilt)
            {
                await IndexFile.WriteAsync(options.Files, segment, pool);
            }
            return segment;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Checks the last segment batch by batch; null when it held no valid batch and was set aside.</summary>
    private static async ValueTask<Segment?> OpenLastAsync(string directory, long baseOffset, int term, LogOptions options, BufferPool pool, long nowNanos)
    {
        string path = Path.Combine(directory, Segment.DataName(baseOffset, term));
        var file = options.Files.Open(path, create: false);
        ScanResult scan;
        try
        {
            scan = await SegmentScanner.ScanAsync(file, baseOffset, options.IndexIntervalBytes, pool);
        }
        catch
        {
            file.Dispose();
            throw;
        }
        if (scan.DroppedBytes > 0 && scan.ValidBatchAfterDamageAt >= 0)
        {
            string what = $"{path}: batch at byte {scan.ValidSize} (offset {scan.NextOffset}) fails its check ({scan.Damage}) but a valid batch follows at byte {scan.ValidBatchAfterDamageAt}";
            // The disk may persist writes that no fdatasync covered yet in any order, so damage followed by valid
            // data is a torn tail where unsynced writes can be: anywhere after the last flush with write caching,
            // otherwise within the group commit's limit, which bounds how far non-zero bytes reach past the damage
            // (not the file's end: the zeros written ahead of the data reach further). Further back it is corruption.
            if (options.FlushEveryAppend && scan.DroppedBytes > PartitionLog.UnsyncedLimitBytes)
            {
                scan.Index.Dispose();
                file.Dispose();
                throw new LogCorruptedException($"{what}: corruption before the tail; the partition stays closed until it is repaired from a replica");
            }
            Log.Warn(Subsystem, options.FlushEveryAppend
                ? $"{what}, within the last {PartitionLog.UnsyncedLimitBytes} bytes that group commit may leave unsynced: cut as a torn tail"
                : $"{what}; write caching is on, so the unflushed tail is cut");
        }
        if (scan.ValidBatches == 0 && scan.FileSize > 0)
        {
            scan.Index.Dispose();
            file.Dispose();
            var files = Runtime.Shard.Current!.Files;
            string aside = await SetAsidePathAsync(files, path);
            await files.MoveFileAsync(path, aside, overwrite: false);
            await files.DeleteFileAsync(Path.ChangeExtension(path, ".index"));
            Log.Warn(Subsystem, $"{path}: no valid batch in {scan.FileSize} bytes ({scan.Damage}); set aside as {Path.GetFileName(aside)}");
            return null;
        }
        if (scan.DroppedBytes > 0)
        {
            Log.Warn(Subsystem, $"{path}: torn tail after offset {scan.NextOffset - 1} ({scan.Damage}): dropped {scan.DroppedBytes} bytes after byte {scan.ValidSize}");
        }
        if (scan.FileSize != scan.ValidSize)
        {
            file.Truncate(scan.ValidSize);
        }
        await Runtime.Shard.Current!.Files.DeleteFileAsync(Path.ChangeExtension(path, ".index")); // the active segment's index lives in memory until it rolls
        return new Segment(directory, baseOffset, term, file, scan.Index, scan.ValidSize, scan.NextOffset, nowNanos);
    }

    private static async ValueTask<string> SetAsidePathAsync(ShardFiles files, string path)
    {
        string aside = path + ".aside";
        for (int n = 1; await files.FileExistsAsync(aside); n++)
        {
            aside = $"{path}.aside.{n}";
        }
        return aside;
    }
}
