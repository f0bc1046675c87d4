using Eddy.Observability;
using Eddy.Records;

namespace Eddy.Storage;

/// <summary>
/// Compaction for <c>cleanup.policy=compact</c>: keeps the newest record per key, drops tombstones older than
/// <c>delete.retention.ms</c>, and keeps every surviving record's offset (rebuilt batches keep their base offset
/// and last offset delta). Rewrites closed segments only, one at a time, each into a new file that replaces the
/// old one by rename; it runs as ordinary async work on the owning shard, so appends go on between its I/O.
/// Compressed batches are kept as they are: the codecs belong to the Kafka layer, above storage. A batch that loses all
/// its records goes, unless it is its idempotent producer's last in the log: that one stays, empty, as Kafka's cleaner
/// keeps it, so a replay of the log (a restart, a new leader) still finds the producer's last sequence.
/// </summary>
public static class Compactor
{
    private const int ReadChunk = 1 << 20;

    /// <summary>Compacts the log's closed segments that end at or before <paramref name="upTo"/>, by the records
    /// below it (a Raft replica passes its committed and durable end: a newer record a new leader could still cut must
    /// not remove an older one). Returns how many records were removed.</summary>
    public static async ValueTask<long> CompactAsync(PartitionLog log, long upTo = long.MaxValue)
    {
        if ((log.Options.CleanupPolicy & CleanupPolicy.Compact) == 0)
        {
            return 0;
        }
        var newest = await NewestAsync(log, upTo);
        long tombstoneCutoff = log.Options.WallClockMs() - (long)log.Options.DeleteRetention.TotalMilliseconds;
        long removed = 0;
        foreach (var segment in log.Segments.Where(s => s.Sealed && s.NextOffset <= upTo).ToArray())
        {
            removed += await CompactSegmentAsync(log, segment, newest, tombstoneCutoff);
        }
        return removed;
    }

    /// <summary>What pass 1 finds below the limit: the offset of every key's newest record, and the base offset of every
    /// idempotent producer's last batch.</summary>
    private sealed class Newest
    {
        public Dictionary<string, long> Keys { get; } = new(StringComparer.Ordinal);
        public Dictionary<long, long> ProducerBatches { get; } = new();

        public bool IsNewest(in Record record) => Keys.TryGetValue(Convert.ToBase64String(record.Key), out long offset) && offset == record.Offset;

        public bool IsProducersLast(in RecordBatch batch) => batch.ProducerId >= 0
            && ProducerBatches.TryGetValue(batch.ProducerId, out long last) && last == batch.BaseOffset;
    }

    /// <summary>Pass 1, over the whole log below <paramref name="upTo"/>.</summary>
    private static async ValueTask<Newest> NewestAsync(PartitionLog log, long upTo)
    {
        var newest = new Newest();
        long offset = log.StartOffset;
        long end = Math.Min(log.LogEndOffset, upTo);
        while (offset < end)
        {
            using var read = await log.ReadAsync(offset, ReadChunk);
            if (read.IsEmpty)
            {
                break;
            }
            foreach (var batch in RecordBatch.Enumerate(read.Records.Span))
            {
                if (batch.BaseOffset >= end)
                {
                    break;
                }
                if (batch.ProducerId >= 0)
                {
                    newest.ProducerBatches[batch.ProducerId] = batch.BaseOffset;
                }
                if (batch.Compression != CompressionType.None)
                {
                    continue;
                }
                var reader = batch.ReadRecords();
                while (reader.TryNext(out var record) && record.Offset < end)
                {
                    if (record.HasKey)
                    {
                        newest.Keys[Convert.ToBase64String(record.Key)] = record.Offset;
                    }
                }
            }
            offset = read.NextOffset;
        }
        return newest;
    }

    /// <summary>Pass 2 for one segment: rebuilds its batches with the surviving records into a new file.</summary>
    private static async ValueTask<long> CompactSegmentAsync(PartitionLog log, Segment segment, Newest newest, long tombstoneCutoff)
    {
        string tempPath = segment.DataPath + ".cleaned";
        var file = log.Options.Files.Open(tempPath, create: true);
        file.Truncate(0);
        var cleaned = new Segment(segment.Directory, segment.BaseOffset, segment.Term, file, new SegmentIndex(segment.Index.Count + 16), 0, segment.BaseOffset, log.Shard.Clock.NowNanos);
        using var writer = new TailWriter(log.Pool, 1 << 20, zeroFillBytes: 0); // a copy written once: nothing to gain
        var builder = new RecordBatchBuilder();
        long removed = 0;
        bool swapped = false;
        try
        {
            await writer.AttachAsync(cleaned);
            long offset = segment.BaseOffset;
            while (offset < segment.NextOffset)
            {
                if (!segment.TryAcquire())
                {
                    return 0; // retention or truncation took the segment away
                }
                LogRead read;
                try
                {
                    read = await log.Reader.ReadAsync(segment, offset, ReadChunk);
                }
                finally
                {
                    segment.Release();
                }
                using (read)
                {
                    if (read.IsEmpty)
                    {
                        break;
                    }
                    var records = read.Records;
                    for (int at = 0; at < records.Length;)
                    {
                        int size = new RecordBatch(records.Span[at..]).TotalSize;
                        var kept = Rebuild(records.Slice(at, size), builder, newest, tombstoneCutoff, ref removed);
                        if (!kept.IsEmpty)
                        {
                            long position = cleaned.Size;
                            writer.Stage(kept.Span);
                            await writer.WriteStagedAsync();
                            var written = new RecordBatch(kept.Span);
                            cleaned.NextOffset = written.LastOffset + 1;
                            cleaned.Index.OnBatch((int)(written.BaseOffset - cleaned.BaseOffset), (int)position, written.MaxTimestamp, log.Options.IndexIntervalBytes);
                        }
                        at += size;
                    }
                    offset = read.NextOffset;
                }
            }
            if (removed == 0)
            {
                return 0;
            }
            cleaned.NextOffset = segment.NextOffset; // offsets of removed records at the end stay used
            await file.FlushDataAsync();
            file.Truncate(cleaned.Size);
            cleaned.Index.Seal();
            cleaned.Sealed = true;
            if (!log.ReplaceSealed(segment, cleaned))
            {
                return 0;
            }
            swapped = true;
            // Data first, then its index: a crash between leaves an index that no longer matches and is rebuilt.
            await log.Shard.Files.MoveFileAsync(tempPath, segment.DataPath, overwrite: true);
            if (!log.Segments.Contains(cleaned))
            {
                // A Raft replica restarted its log (a leader's snapshot installed) while the file moved: the segment
                // is gone, and its file must not come back below the new start.
                await log.Shard.Files.DeleteFileAsync(segment.DataPath);
                return 0;
            }
            await log.Options.Files.SyncDirectoryAsync(segment.Directory);
            await IndexFile.WriteAsync(log.Options.Files, cleaned, log.Pool);
            Log.Info("storage", $"{segment.DataPath}: compacted, {removed} records removed");
            return removed;
        }
        finally
        {
            writer.Detach();
            if (!swapped)
            {
                cleaned.Retire(delete: false);
                await log.Shard.Files.DeleteFileAsync(tempPath);
            }
        }
    }

    /// <summary>The batch with only its surviving records (the original bytes when nothing goes), or empty.</summary>
    private static ReadOnlyMemory<byte> Rebuild(ReadOnlyMemory<byte> original, RecordBatchBuilder builder, Newest newest, long tombstoneCutoff, ref long removed)
    {
        var batch = new RecordBatch(original.Span);
        if (batch.Compression != CompressionType.None || batch.IsControl)
        {
            return original; // compressed or control batch: kept whole
        }
        builder.Reset(batch.BaseTimestamp);
        builder.BaseOffset = batch.BaseOffset;
        builder.PartitionLeaderEpoch = batch.PartitionLeaderEpoch;
        builder.Attributes = batch.Attributes;
        // The producer's fields stay: its sequences are counted from the base sequence over the batch's offset deltas.
        builder.ProducerId = batch.ProducerId;
        builder.ProducerEpoch = batch.ProducerEpoch;
        builder.BaseSequence = batch.BaseSequence;
        int dropped = 0;
        var reader = batch.ReadRecords();
        while (reader.TryNext(out var record))
        {
            bool keep = !record.HasKey || (newest.IsNewest(record) && (record.HasValue || record.Timestamp >= tombstoneCutoff));
            if (keep)
            {
                builder.Add(record);
            }
            else
            {
                dropped++;
            }
        }
        if (dropped == 0 || reader.Malformed)
        {
            return original;
        }
        removed += dropped;
        if (builder.Count == 0 && !newest.IsProducersLast(batch))
        {
            return ReadOnlyMemory<byte>.Empty;
        }
        // The builder's buffer is reused for the next batch: the rebuilt batch gets its own copy.
        return builder.Finish(batch.LastOffsetDelta).ToArray();
    }
}
