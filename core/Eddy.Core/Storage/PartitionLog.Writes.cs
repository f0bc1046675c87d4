using System.Runtime.CompilerServices;
using Eddy.Native;
using Eddy.Records;

namespace Eddy.Storage;

// The write path, with write coalescing. One append at a time is the log's writer: it writes inside the gate, and the
// appends that arrive meanwhile queue (AppendQueue). When its write is done, the head of the queue becomes the writer
// and takes everything queued behind it into one write with its own batches. Like group commit for fdatasync, this
// keeps appends from queueing behind each other's writes: when one write is slow, the appends that piled up behind
// it cost one more write, not one each.
public sealed partial class PartitionLog
{
    /// <summary>The most bytes one write carries when it takes queued appends along (a single larger append is
    /// written alone). 1 MiB: past that, larger writes gain the disk little.</summary>
    public const int MaxCoalescedWriteBytes = 1 << 20;

    /// <summary>Largest batch storage accepts: the biggest pooled buffer less two pages of slack for the tail.</summary>
    public const int MaxBatchSize = Buffers.BufferPool.MaxSize - 2 * 4096;

    private readonly AppendQueue _appends = new();
    private bool _writerActive;

    // How many appends at the head of the queue the write in flight carries (only the writer dequeues).
    private int _taken;

    /// <summary>
    /// Writes batches as <see cref="AppendAsync"/> does, but completes once they are written and the log end has
    /// moved past them, without waiting for durability: the caller waits with <see cref="WaitDurableAsync"/> for
    /// <see cref="LogAppend.NextOffset"/> (outside whatever it holds, so that later appends join the same fdatasync).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<LogAppend> WriteAsync(ReadOnlyMemory<byte> batches, int leaderEpoch = -1, bool assignOffsets = true)
    {
        _shard.AssertCurrent();
        CheckBatches(batches.Span);
        if (_writerActive)
        {
            // Pooled and completed on this shard: resume inline (docs/runtime.md, "Awaiting on a shard").
            var queued = await _appends.Enqueue(batches, leaderEpoch, assignOffsets).ConfigureAwait(false);
            if (queued.BaseOffset >= 0)
            {
                return queued; // a writer ahead took it into its write
            }
            // The writer's turn was handed over: _writerActive stays set.
        }
        else
        {
            _writerActive = true;
        }
        try
        {
            return await WriteGroupAsync(batches, leaderEpoch, assignOffsets).ConfigureAwait(false);
        }
        finally
        {
            if (_appends.Head is not null)
            {
                _appends.Dequeue().Complete(AppendQueue.WriterTurn); // runs the next writer inline, up to its write
            }
            else
            {
                _writerActive = false;
            }
        }
    }

    /// <summary>Writes this append with the queued ones that can go in the same write; completes those.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<LogAppend> WriteGroupAsync(ReadOnlyMemory<byte> batches, int leaderEpoch, bool assignOffsets)
    {
        await _gate.EnterAsync();
        try
        {
            ThrowIfUnusable();
            if (!assignOffsets && new RecordBatch(batches.Span).BaseOffset != LogEndOffset)
            {
                throw new ArgumentException($"batches start at offset {new RecordBatch(batches.Span).BaseOffset}, but the log ends at {LogEndOffset}", nameof(batches));
            }
            if (NeedsRoll(batches.Length, leaderEpoch))
            {
                await RollAsync(Active.IsEmpty && leaderEpoch >= 0 ? leaderEpoch : Math.Max(leaderEpoch, Active.Term));
            }
            else if (Options.FlushEveryAppend)
            {
                await KeepUnsyncedWithinLimitAsync(batches.Length).ConfigureAwait(false);
            }
            var active = Active;
            long position = active.Size;
            long baseOffset = active.NextOffset;
            var own = Assign(_tail.Stage(batches.Span), baseOffset, leaderEpoch, assignOffsets);
            long next = own.NextOffset;
            if (assignOffsets)
            {
                next = TakeQueuedAppends(next, batches.Length, leaderEpoch);
            }
            try
            {
                await _tail.WriteStagedAsync().ConfigureAwait(false);
            }
            catch (NativeException e)
            {
                throw OnWriteFailure(e, "append");
            }
            active.NextOffset = next;
            IndexAndCache(active, position, _tail.Staged);
            if (Options.FlushEveryAppend)
            {
                // Every append of this write will wait for it: start the fdatasync now, before the next writer's
                // write goes out (the turn passes to it before this append's caller runs on).
                StartSync();
            }
            else
            {
                await AfterCachedWriteAsync();
            }
            CompleteGroup();
            return own;
        }
        catch (Exception e)
        {
            FailGroup(e); // nothing of the write is visible: the queued appends in it fail with the writer's
            throw;
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>Stages the queued leader appends that fit in this write (same epoch, no roll, within the limits),
    /// leaving them at the head of the queue until the write ends; returns the log end after them.</summary>
    private long TakeQueuedAppends(long next, int bytes, int leaderEpoch)
    {
        for (var queued = _appends.Head;
            queued is not null
            && queued.AssignOffsets
            && queued.LeaderEpoch == leaderEpoch
            && bytes + queued.Batches.Length <= MaxCoalescedWriteBytes
            && !NeedsRoll(bytes + queued.Batches.Length, leaderEpoch)
            && (!Options.FlushEveryAppend || UnsyncedBytes + bytes + queued.Batches.Length <= UnsyncedLimitBytes);
            queued = queued.Next)
        {
            queued.Placement = Assign(_tail.StageMore(queued.Batches.Span), next, leaderEpoch, assignOffsets: true);
            next = queued.Placement.NextOffset;
            bytes += queued.Batches.Length;
            _taken++;
        }
        return next;
    }

    private void CompleteGroup()
    {
        for (; _taken > 0; _taken--)
        {
            var queued = _appends.Dequeue();
            queued.Complete(queued.Placement); // may run that append's continuation inline, which may queue more
        }
    }

    private void FailGroup(Exception error)
    {
        for (; _taken > 0; _taken--)
        {
            _appends.Dequeue().Fail(error);
        }
    }

    private static void CheckBatches(ReadOnlySpan<byte> batches)
    {
        if (batches.Length > MaxBatchSize)
        {
            throw new ArgumentException($"an append of {batches.Length} bytes is larger than storage accepts ({MaxBatchSize})", nameof(batches));
        }
        int count = 0;
        for (int at = 0; at < batches.Length; count++)
        {
            var check = RecordBatch.Check(batches[at..], verifyCrc: false, out int size, MaxBatchSize);
            if (check != BatchCheck.Ok)
            {
                throw new ArgumentException($"batch {count} at byte {at} of the append fails its check ({check})", nameof(batches));
            }
            at += size;
        }
        if (count == 0)
        {
            throw new ArgumentException("an append needs at least one batch", nameof(batches));
        }
    }

    /// <summary>Writes the leader-assigned fields into the staged copy; returns where the batches go, with the
    /// LogAppendTime stamped on them (-1 when the topic keeps the producers' times or offsets are kept).</summary>
    private LogAppend Assign(Span<byte> staged, long next, int leaderEpoch, bool assignOffsets)
    {
        long first = next;
        long appendTime = assignOffsets && Options.TimestampType == TimestampType.LogAppendTime ? Options.WallClockMs() : -1;
        for (int at = 0; at < staged.Length;)
        {
            var batch = staged[at..];
            var header = new RecordBatch(batch);
            int size = header.TotalSize;
            int delta = header.LastOffsetDelta;
            if (assignOffsets)
            {
                RecordBatch.Assign(batch, next, leaderEpoch);
                if (Options.TimestampType == TimestampType.LogAppendTime)
                {
                    RecordBatch.SetLogAppendTime(batch, appendTime);
                }
            }
            else if (header.BaseOffset < next)
            {
                throw new ArgumentException($"batch at offset {header.BaseOffset} goes backwards (expected at least {next})");
            }
            next = new RecordBatch(batch).BaseOffset + delta + 1;
            at += size;
        }
        return new LogAppend(first, next, appendTime);
    }

    /// <summary>Whether appended batches go into the shard's batch cache (default true). A Raft follower's do not: nothing
    /// reads them back soon (consumers read from the leader), and they would take the cache from the leaders' tailing
    /// readers and cost a copy each. The cache keeps one contiguous run, so caching again later starts a new one.</summary>
    public bool CachesAppends { get; set; } = true;

    private void IndexAndCache(Segment segment, long position, ReadOnlySpan<byte> staged)
    {
        for (int at = 0; at < staged.Length;)
        {
            var header = new RecordBatch(staged[at..]);
            int size = header.TotalSize;
            segment.Index.OnBatch((int)(header.BaseOffset - segment.BaseOffset), (int)(position + at), header.MaxTimestamp, Options.IndexIntervalBytes);
            if (CachesAppends)
            {
                _cache?.Append(staged.Slice(at, size), header.BaseOffset, header.LastOffset + 1);
            }
            at += size;
        }
    }

}
