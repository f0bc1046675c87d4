using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Raft.Driver;

// Opening a replica: its hard state, where its log starts, and its membership changes found again.
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
        foreach (var found in await FindChangesAsync(log, scanned))
        {
            if (changes.Count == 0 || found.Index > changes[^1].Index)
            {
                changes.Add(found);
            }
        }
        var storage = new PartitionLogStorage(log, changes);
        var raft = new RaftGroup(options, voters, storage, new PersistedState(states.Load(group), snapshot));
        return new PartitionRaft(group, raft, log, storage, log.LogEndOffset, states, send);
    }

    /// <summary>The membership change control batches from <paramref name="from"/> to the log end.</summary>
    private static async ValueTask<List<Entry>> FindChangesAsync(PartitionLog log, long from)
    {
        var found = new List<Entry>();
        for (long offset = from; offset < log.LogEndOffset;)
        {
            using var read = await log.ReadAsync(offset, PartitionLogStorage.RunBytes);
            if (read.IsEmpty)
            {
                break;
            }
            CollectChanges(read.Records.Span, offset, found);
            offset = read.NextOffset;
        }
        return found;
    }

    private static void CollectChanges(ReadOnlySpan<byte> records, long from, List<Entry> into)
    {
        foreach (var batch in new BatchEnumerator(records))
        {
            if (batch.LastOffset >= from && ControlRecord.ReadMembershipChange(batch.Bytes) is { } change)
            {
                into.Add(new Entry(batch.PartitionLeaderEpoch, batch.BaseOffset + 1, EntryType.ConfigChange, change));
            }
        }
    }
}
