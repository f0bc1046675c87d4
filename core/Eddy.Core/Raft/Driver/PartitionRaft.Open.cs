using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Raft.Driver;

// Opening a replica: its hard state, where its log starts, and its membership changes (and log start markers not yet
// applied) found again.
public sealed partial class PartitionRaft
{
    /// <summary>
    /// Opens the replica over <paramref name="log"/> (on its shard) with the hard state, snapshot and membership changes
    /// the store keeps for <paramref name="group"/>; <paramref name="voters"/> are the members before any change (the
    /// snapshot's membership replaces them once the log start moved). The log past
    /// where the store's list was saved is searched for membership changes (a crash may have come between the log's
    /// write and the store's). Messages for other replicas go to <paramref name="send"/>.
    /// </summary>
    public static async ValueTask<PartitionRaft> OpenAsync(long group, RaftOptions options, Membership voters, PartitionLog log, RaftStateStore states,
        Action<long, Message> send)
    {
        var snapshot = states.LoadSnapshot(group);
        if (snapshot is not null)
        {
            await StartAtSnapshotAsync(log, snapshot);
        }
        else if (log.StartOffset > 0)
        {
            throw new LogCorruptedException($"{log.Directory}: the log starts at offset {log.StartOffset}, but no Raft snapshot says why");
        }
        long start = snapshot?.Index ?? 0;
        var (scanned, changes) = states.LoadMembership(group);
        // Listed changes the log no longer holds were compacted away (the snapshot has them) or cut with a diverged tail
        // after the list was saved.
        changes.RemoveAll(c => c.Index <= start || c.Index > log.LogEndOffset || log.TermAt(c.Index - 1) != c.Term);
        scanned = Math.Clamp(scanned, start, log.LogEndOffset);
        var (found, starts) = await FindChangesAsync(log, scanned);
        foreach (var change in found)
        {
            if (changes.Count == 0 || change.Index > changes[^1].Index)
            {
                changes.Add(change);
            }
        }
        var storage = new PartitionLogStorage(log, changes);
        var raft = new RaftGroup(options, voters, storage, new PersistedState(states.Load(group), snapshot));
        // The saved list's log end is not past a log start marker not yet applied (SaveStateAsync): found again here.
        starts.RemoveAll(s => s.Start <= Math.Max(log.StartOffset, states.LoadLogStart(group)));
        return new PartitionRaft(group, raft, log, storage, log.LogEndOffset, states, send, starts);
    }

    /// <summary>The membership change and log start control batches from <paramref name="from"/> to the log end.</summary>
    private static async ValueTask<(List<Entry> Changes, List<(long Offset, long Start)> Starts)> FindChangesAsync(PartitionLog log, long from)
    {
        var changes = new List<Entry>();
        var starts = new List<(long, long)>();
        for (long offset = from; offset < log.LogEndOffset;)
        {
            using var read = await log.ReadAsync(offset, PartitionLogStorage.RunBytes);
            if (read.IsEmpty)
            {
                break;
            }
            foreach (var batch in new BatchEnumerator(read.Records.Span))
            {
                if (batch.LastOffset < offset || !batch.IsControl)
                {
                    continue;
                }
                if (ControlRecord.ReadMembershipChange(batch.Bytes) is { } change)
                {
                    changes.Add(new Entry(batch.PartitionLeaderEpoch, batch.BaseOffset + 1, EntryType.ConfigChange, change));
                }
                else if (ControlRecord.ReadLogStart(batch.Bytes) is long start)
                {
                    starts.Add((batch.BaseOffset, start));
                }
            }
            offset = read.NextOffset;
        }
        return (changes, starts);
    }
}
