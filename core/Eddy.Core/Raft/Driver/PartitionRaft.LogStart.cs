using Eddy.Observability;
using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Raft.Driver;

// DeleteRecords on a replicated partition: a start offset that every replica must agree on, so a replicated command.
// The leader proposes a log start marker (a control batch of Eddy's own naming the new start); each replica, once the
// marker is settled in its log (committed, durable and applied there), saves the new start and moves its log start
// there, as Kafka's DeleteRecords does: readers see nothing below it. Physically, the segments wholly below it go as
// retention's do (a Raft compaction at the base of the segment holding the new start, the snapshot saved first): the
// Raft log must start at a batch boundary, and a follower behind it is sent that snapshot, restarts its log at that
// segment's base, and applies the marker itself when it reaches it. Markers written and not yet applied are found
// again at the next open: the saved scan point never passes one (SaveStateAsync).
public sealed partial class PartitionRaft
{
    // Log start markers in the log not yet applied here, in log order: the marker's offset, the start it names.
    private readonly List<(long Offset, long Start)> _pendingStarts;
    // Records below it were deleted by DeleteRecords (saved in the state store); it may lie inside the first segment.
    private long _deletedBelow;

    /// <summary>The first offset readers may see: the log's start, or past it where DeleteRecords moved it inside the
    /// first segment.</summary>
    public long LogStartOffset => Math.Max(_log.StartOffset, _deletedBelow);

    /// <summary>
    /// DeleteRecords, on the leader: moves every replica's log start to <paramref name="offset"/> (at most the high
    /// watermark). Completes with this replica's log start once the marker is committed and applied here; fails as a
    /// proposal does when leadership moves first (the marker may still be committed by the next leader). On the
    /// replica's shard.
    /// </summary>
    public async Task<long> MoveLogStartAsync(long offset)
    {
        if (offset <= LogStartOffset)
        {
            return LogStartOffset;
        }
        if (offset > HighWatermark)
        {
            throw new OffsetOutOfRangeException(offset, LogStartOffset, HighWatermark);
        }
        long marker = await Propose(ControlRecord.LogStart(offset, _log.Options.WallClockMs()), untilCommitted: true, logAppendTime: -1, control: true);
        // Committed; applied by the pump once this replica has applied the marker's entry too.
        while (Failure is null && _pendingStarts.Count > 0 && _pendingStarts[0].Offset <= marker)
        {
            Kick();
            if (_pumping)
            {
                await _pump;
            }
            else
            {
                await Task.Yield();
            }
        }
        if (Failure is { } failure)
        {
            throw new ProposalRefusedException(ProposeResult.NotLeader, $"the replica stopped: {failure.Message}");
        }
        return LogStartOffset;
    }

    /// <summary>Notes a log start marker among the batches being written (a data batch is told apart by its
    /// attributes alone).</summary>
    private void NoteLogStart(ReadOnlySpan<byte> batch)
    {
        if (ControlRecord.ReadLogStart(batch) is long start)
        {
            _pendingStarts.Add((new RecordBatch(batch).BaseOffset, start));
        }
    }

    /// <summary>Applies the markers now settled here (in the pump, after a Ready): the log start moves to the furthest
    /// they name, saved before any segment goes.</summary>
    private async ValueTask ApplySettledStartsAsync()
    {
        if (_pendingStarts.Count == 0)
        {
            return;
        }
        long settled = SettledEnd;
        long start = LogStartOffset;
        int count = 0;
        for (; count < _pendingStarts.Count && _pendingStarts[count].Offset < settled; count++)
        {
            start = Math.Max(start, _pendingStarts[count].Start);
        }
        if (count == 0)
        {
            return;
        }
        long marker = _pendingStarts[count - 1].Offset;
        _pendingStarts.RemoveRange(0, count);
        if (start <= LogStartOffset)
        {
            return;
        }
        Log.Info(Subsystem, $"partition group {Group}: node {_raft.Id} moves its log start from {LogStartOffset} to {start} (DeleteRecords, marker at offset {marker})");
        await _states.SaveLogStartAsync(Group, start);
        _deletedBelow = start;
        long segmentBase = _log.Segments.Last(s => s.BaseOffset <= start).BaseOffset;
        if (segmentBase > _log.StartOffset)
        {
            await CompactAtAsync(segmentBase);
        }
    }
}
