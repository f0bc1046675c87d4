using Eddy.Buffers;
using Eddy.Native;

namespace Eddy.Storage;

// Segment lifecycle: rolling, the start offset, retention.
public sealed partial class PartitionLog
{
    private static Segment CreateSegment(string directory, LogOptions options, long baseOffset, int term, long nowNanos)
    {
        var file = options.Files.Open(Path.Combine(directory, Segment.DataName(baseOffset, term)), create: true);
        int capacity = (int)Math.Min(options.SegmentBytes / Math.Max(1, options.IndexIntervalBytes) + 1, 1 << 16);
        return new Segment(directory, baseOffset, term, file, new SegmentIndex(capacity), 0, baseOffset, nowNanos);
    }

    private bool NeedsRoll(int bytes, int leaderEpoch)
    {
        var active = Active;
        if (leaderEpoch > active.Term)
        {
            return true; // a new term starts a new segment, as its name carries the term
        }
        if (active.IsEmpty && leaderEpoch >= 0 && leaderEpoch != active.Term)
        {
            // Raft cut a diverged tail back to this segment's start, and the leader's batches here are of an older
            // term: the segment is renamed by replacing it, or its name would claim them for the newer term.
            return true;
        }
        return !active.IsEmpty
            && (active.Size + bytes > Options.SegmentBytes || _shard.Clock.NowNanos - active.CreatedNanos >= Options.SegmentAge.Ticks * 100);
    }

    /// <summary>Closes the active segment (flushed, cut to its data, index written) and starts the next one.</summary>
    private async ValueTask RollAsync(int term)
    {
        var old = Active;
        try
        {
            if (!old.IsEmpty)
            {
                if (DurableOffset < LogEndOffset)
                {
                    await FlushCoreAsync(); // durability stays a prefix: the old segment is flushed first
                }
                await _tail.SettleAsync();
                old.File.Truncate(old.Size); // drops the zeros written and the space reserved ahead
                old.Index.Seal();
                await IndexFile.WriteAsync(Options.Files, old, _pool);
                old.Sealed = true;
            }
            var next = CreateSegment(Directory, Options, old.NextOffset, term, _shard.Clock.NowNanos);
            _segments.Add(next);
            _durableBytes = 0;
            if (old.IsEmpty)
            {
                _segments.Remove(old); // an empty segment of an older term is replaced, not kept
                Retire(old);
            }
            _tail.Detach();
            await _tail.AttachAsync(next);
            await Options.Files.SyncDirectoryAsync(Directory);
        }
        catch (NativeException e)
        {
            throw OnWriteFailure(e, "segment roll");
        }
    }

    /// <summary>Applies changed topic configs (segment size and age, retention, cleanup policy, timestamp type) from the
    /// next append or housekeeping pass on. The file layer, preallocation, zero fill and flush policy stay as opened.</summary>
    public void Reconfigure(LogOptions options)
    {
        _shard.AssertCurrent();
        // What stays as opened: the file layer, preallocation and zero fill, flush policy, batch cache, shard storage
        // and clock.
        Options = options with
        {
            PreallocateBytes = Options.PreallocateBytes,
            ZeroFillBytes = Options.ZeroFillBytes,
            FlushEveryAppend = Options.FlushEveryAppend,
            FlushBytes = Options.FlushBytes,
            FlushInterval = Options.FlushInterval,
            UseBatchCache = Options.UseBatchCache,
            Storage = Options.Storage,
            WallClockMs = Options.WallClockMs,
            Files = Options.Files,
        };
    }

    /// <summary>Closes the active segment now (if it holds anything) and starts the next: the kvstore puts each
    /// snapshot at the start of a segment so that the segments before it can go.</summary>
    public async ValueTask RollAsync()
    {
        _shard.AssertCurrent();
        await _gate.EnterAsync();
        try
        {
            ThrowIfUnusable();
            if (!Active.IsEmpty)
            {
                await RollAsync(Active.Term);
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>Moves the start offset forward (DeleteRecords): offsets below it are no longer readable, and segments
    /// wholly below it are deleted. The caller persists the new start offset (the shard's kvstore).</summary>
    public async ValueTask SetStartOffsetAsync(long offset)
    {
        _shard.AssertCurrent();
        ThrowIfUnusable();
        if (offset <= StartOffset)
        {
            return;
        }
        if (offset > LogEndOffset)
        {
            throw new OffsetOutOfRangeException(offset, StartOffset, LogEndOffset);
        }
        StartOffset = offset;
        if (DropSegmentsBelowStart() > 0)
        {
            await _shard.Files.BarrierAsync(); // the unlinks, before the directory fsync that makes them durable
            await Options.Files.SyncDirectoryAsync(Directory);
        }
    }

    /// <summary>Deletes closed segments by retention.bytes and retention.ms (never the active one). Returns how many.</summary>
    public async ValueTask<int> ApplyRetentionAsync()
    {
        _shard.AssertCurrent();
        ThrowIfUnusable();
        int deleted = SegmentsPastRetention(long.MaxValue);
        if (deleted == 0)
        {
            return 0;
        }
        for (int i = 0; i < deleted; i++)
        {
            Retire(_segments[i]);
        }
        _segments.RemoveRange(0, deleted);
        StartOffset = Math.Max(StartOffset, _segments[0].BaseOffset);
        _cache?.DropBefore(StartOffset);
        await _shard.Files.BarrierAsync(); // the unlinks, before the directory fsync that makes them durable
        await Options.Files.SyncDirectoryAsync(Directory);
        return deleted;
    }

    /// <summary>Where the log would start once retention deleted what it may, deleting nothing: the base offset of the
    /// first segment it keeps, when it would delete only segments that end at or before <paramref name="limit"/> (a Raft
    /// replica's committed and durable end; it compacts its Raft log there before <see cref="SetStartOffsetAsync"/>
    /// deletes them). The start offset when retention would delete nothing.</summary>
    public long RetentionStart(long limit)
    {
        _shard.AssertCurrent();
        int deleted = SegmentsPastRetention(limit);
        return deleted == 0 ? StartOffset : Math.Max(StartOffset, _segments[deleted].BaseOffset);
    }

    /// <summary>How many of the oldest segments retention.bytes and retention.ms delete: closed ones only (never the
    /// active one), each ending at or before <paramref name="limit"/>.</summary>
    private int SegmentsPastRetention(long limit)
    {
        if ((Options.CleanupPolicy & CleanupPolicy.Delete) == 0)
        {
            return 0;
        }
        long total = SizeBytes;
        long cutoff = Options.RetentionTime is { } age ? Options.WallClockMs() - (long)age.TotalMilliseconds : long.MinValue;
        int count = 0;
        while (count < _segments.Count - 1 && _segments[count].Sealed && _segments[count].NextOffset <= limit)
        {
            var oldest = _segments[count];
            bool bySize = Options.RetentionBytes >= 0 && total - oldest.Size >= Options.RetentionBytes;
            bool byTime = oldest.Index.MaxTimestamp < cutoff;
            if (!bySize && !byTime)
            {
                break;
            }
            total -= oldest.Size;
            count++;
        }
        return count;
    }

    /// <summary>Swaps a sealed segment for its compacted copy, if the log still holds it unchanged; false if not.</summary>
    internal bool ReplaceSealed(Segment old, Segment cleaned)
    {
        int i = _segments.IndexOf(old);
        if (i < 0 || !old.Sealed || i == _segments.Count - 1)
        {
            return false;
        }
        _segments[i] = cleaned;
        _reader.Forget(old);
        old.Retire(delete: false);
        _cache?.Truncate(long.MinValue); // cached copies may hold removed records: drop them
        return true;
    }

    internal SegmentReader Reader => _reader;

    /// <summary>Deletes a segment taken out of the list (once no read is in flight on it).</summary>
    private void Retire(Segment segment)
    {
        _reader.Forget(segment);
        segment.Retire(delete: true);
    }

    internal BufferPool Pool => _pool;

    internal Runtime.Shard Shard => _shard;

    private int DropSegmentsBelowStart()
    {
        int dropped = 0;
        while (_segments.Count > 1 && _segments[0].NextOffset <= StartOffset)
        {
            var oldest = _segments[0];
            _segments.RemoveAt(0);
            Retire(oldest);
            dropped++;
        }
        _cache?.DropBefore(StartOffset);
        return dropped;
    }

    /// <summary>The base offset of the first batch (at or after the start offset) with a timestamp at or after
    /// <paramref name="timestamp"/>, or -1 when there is none. Batch granularity: the caller looks inside the batch
    /// for the exact record.</summary>
    public async ValueTask<long> FindOffsetByTimestampAsync(long timestamp)
    {
        _shard.AssertCurrent();
        for (int i = 0; i < _segments.Count; i++)
        {
            var segment = _segments[i];
            if (segment.NextOffset <= StartOffset || segment.Index.MaxTimestamp < timestamp)
            {
                continue;
            }
            int position = segment.Index.FindPositionByTimestamp(timestamp);
            if (position < 0 || !segment.TryAcquire())
            {
                continue;
            }
            try
            {
                var (at, baseOffset, _) = await _reader.FindAsync(segment, position, timestamp, byTimestamp: true);
                if (at >= 0)
                {
                    return Math.Max(baseOffset, StartOffset);
                }
            }
            finally
            {
                segment.Release();
            }
        }
        return -1;
    }
}
