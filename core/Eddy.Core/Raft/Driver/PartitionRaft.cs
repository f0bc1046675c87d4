using System.Buffers;
using System.Buffers.Binary;
using Eddy.Observability;
using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Raft.Driver;

/// <summary>
/// One replica of a partition's Raft group, on the partition's shard: the pure core joined to the partition's log, the
/// shard's hard-state store and a way to send messages. The Raft log is the Kafka log (<see cref="PartitionLogStorage"/>):
/// an entry is a record batch written with its final offsets and its term as partitionLeaderEpoch, a new leader's
/// no-op is a leader-change control batch, a membership change a control batch of Eddy's own, and the commit index is
/// the high watermark. Each Ready is handled in the order docs/raft.md gives: truncate a diverged tail and write the
/// entries (one write per term, so a new term starts a new segment), fdatasync, save the hard state with where the
/// membership changes are, only then send (with the bytes of every entry read back from the log), and Advance. A
/// storage failure or a broken invariant stops the replica (fail-stop).
/// </summary>
public sealed class PartitionRaft
{
    private const string Subsystem = "raft";
    private const long NoTimestamp = -1; // Kafka's "no timestamp"

    private readonly RaftGroup _raft;
    private readonly PartitionLog _log;
    private readonly PartitionLogStorage _storage;
    private readonly RaftStateStore _states;
    private readonly Action<long, Message> _send;
    private readonly List<Proposal> _proposals = new(); // in index order
    private bool _pumping;
    // The log below this offset was searched for membership changes: the saved list holds all of them there.
    private long _scannedThrough;

    private PartitionRaft(long group, RaftGroup raft, PartitionLog log, PartitionLogStorage storage, long scannedThrough, RaftStateStore states,
        Action<long, Message> send)
    {
        Group = group;
        _raft = raft;
        _log = log;
        _storage = storage;
        _scannedThrough = scannedThrough;
        _states = states;
        _send = send;
    }

    public long Group { get; }
    public int NodeId => _raft.Id;
    public Role Role => _raft.Role;
    public int Leader => _raft.Leader;
    public long Term => _raft.Term;
    public Membership Membership => _raft.Membership;

    /// <summary>The offset the next batch gets here (written, not necessarily committed).</summary>
    public long LogEndOffset => _raft.LastIndex;

    /// <summary>Offsets below it are committed: on a majority's disks, and never truncated.</summary>
    public long HighWatermark => _raft.Committed;

    /// <summary>Set once the replica stopped (fail-stop).</summary>
    public Exception? Failure { get; private set; }

    /// <summary>
    /// Opens the replica over <paramref name="log"/> (on its shard) with the hard state and membership changes the store
    /// keeps for <paramref name="group"/>; <paramref name="voters"/> are the members before any change. The log past
    /// where the store's list was saved is searched for membership changes (a crash may have come between the log's
    /// write and the store's). Messages for other replicas go to <paramref name="send"/>.
    /// </summary>
    public static async ValueTask<PartitionRaft> OpenAsync(long group, RaftOptions options, Membership voters, PartitionLog log, RaftStateStore states,
        Action<long, Message> send)
    {
        if (log.StartOffset > 0)
        {
            // Its Raft snapshot would be the log start offset; sending one to a lagging follower is not built yet.
            throw new NotSupportedException($"{log.Directory}: a replicated partition whose log start moved ({log.StartOffset}) is not supported yet");
        }
        var (scanned, changes) = states.LoadMembership(group);
        // Listed changes the log no longer holds were cut with a diverged tail after the list was saved.
        changes.RemoveAll(c => c.Index > log.LogEndOffset || log.TermAt(c.Index - 1) != c.Term);
        scanned = Math.Min(scanned, log.LogEndOffset);
        foreach (var found in await FindChangesAsync(log, scanned))
        {
            if (changes.Count == 0 || found.Index > changes[^1].Index)
            {
                changes.Add(found);
            }
        }
        var storage = new PartitionLogStorage(log, changes);
        var raft = new RaftGroup(options, voters, storage, new PersistedState(states.Load(group), null));
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
        for (int at = 0; at < records.Length;)
        {
            var batch = new RecordBatch(records[at..]);
            if (batch.LastOffset >= from && ControlRecord.ReadMembershipChange(records.Slice(at, batch.TotalSize)) is { } change)
            {
                into.Add(new Entry(batch.PartitionLeaderEpoch, batch.BaseOffset + 1, EntryType.ConfigChange, change));
            }
            at += batch.TotalSize;
        }
    }

    public void Tick() => Input(static (raft, _) => raft.Tick(), default);

    public void Campaign() => Input(static (raft, _) => raft.Campaign(), default);

    public void Step(in Message message) => Input(static (raft, m) => raft.Step(m), message);

    /// <summary>One membership change (add a learner, promote it, remove a member), on the leader, one at a time
    /// (docs/raft.md). It is in force as soon as it is in the log.</summary>
    public ProposeResult ProposeMembershipChange(ConfigChange change)
    {
        if (Failure is not null)
        {
            return ProposeResult.NotLeader;
        }
        var result = _raft.ProposeConfigChange(change);
        Kick();
        return result;
    }

    private void Input(Action<RaftGroup, Message> input, Message message)
    {
        if (Failure is not null)
        {
            return;
        }
        try
        {
            input(_raft, message);
        }
        catch (RaftInvariantException e)
        {
            Stop(e);
            return;
        }
        Kick();
    }

    /// <summary>
    /// Appends one record batch as the leader (acks=all): it gets the next offsets and this term as its leader epoch, in
    /// a copy, and the task completes with its base offset once it is committed. Fails with
    /// <see cref="ProposalRefusedException"/> off the leader or when the uncommitted tail is full, and with
    /// <see cref="ProposalLostException"/> when another leader's entries replaced it.
    /// </summary>
    public Task<long> ProposeAsync(ReadOnlyMemory<byte> batch)
    {
        if (Failure is not null)
        {
            return Task.FromException<long>(new ProposalRefusedException(ProposeResult.NotLeader, $"the replica stopped: {Failure.Message}"));
        }
        if (_raft.Role != Role.Leader)
        {
            return Task.FromException<long>(new ProposalRefusedException(ProposeResult.NotLeader, $"node {_raft.Leader} leads group {Group}"));
        }
        var copy = batch.ToArray();
        if (copy.Length < RecordBatch.HeaderSize || new RecordBatch(copy).TotalSize != copy.Length)
        {
            throw new ArgumentException($"one whole record batch expected, got {copy.Length} bytes", nameof(batch));
        }
        var header = new RecordBatch(copy);
        long baseOffset = _raft.LastIndex; // the log end: index n ends offset n - 1
        BinaryPrimitives.WriteInt64BigEndian(copy.AsSpan(RecordBatch.BaseOffsetAt), baseOffset);
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(RecordBatch.LeaderEpochAt), checked((int)_raft.Term));
        var result = _raft.Propose(copy, header.LastOffsetDelta + 1);
        if (result != ProposeResult.Accepted)
        {
            return Task.FromException<long>(new ProposalRefusedException(result, $"group {Group} refused the batch: {result}"));
        }
        var proposal = new Proposal(_raft.LastIndex, _raft.Term, baseOffset);
        _proposals.Add(proposal);
        Kick();
        return proposal.Done.Task;
    }

    private void Kick()
    {
        if (!_pumping && Failure is null && _raft.HasReady)
        {
            _pumping = true;
            _ = PumpAsync();
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            while (Failure is null && _raft.HasReady)
            {
                var ready = _raft.GetReady();
                if (ready.Snapshot is not null)
                {
                    throw new NotSupportedException("installing the leader's log start (a follower behind it) is not supported yet");
                }
                await WriteAsync(ready.Entries);
                if (ready.HasHardState || _scannedThrough != _log.LogEndOffset)
                {
                    _scannedThrough = _log.LogEndOffset;
                    await _states.SaveAsync(ready.HasHardState ? [(Group, ready.HardState)] : [], [(Group, _scannedThrough, _storage.Changes)]);
                }
                foreach (var message in ready.Messages)
                {
                    _send(Group, message.Entries is { Length: > 0 } ? await WithDataAsync(message) : message);
                }
                _raft.Advance();
                SettleProposals();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Stop(e);
        }
        finally
        {
            _pumping = false;
        }
    }

    /// <summary>Writes a Ready's entries: cut the log where they start, then one write per term, then fdatasync.</summary>
    private async ValueTask WriteAsync(List<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }
        long first = entries[0].Index - 1;
        if (first < _log.LogEndOffset)
        {
            await _log.TruncateAsync(first);
            if (_storage.DropChangesFrom(entries[0].Index) || first < _scannedThrough)
            {
                // Saved before the new entries go in: a crash after them must search the log again from the cut.
                _scannedThrough = Math.Min(_scannedThrough, first);
                await _states.SaveAsync([], [(Group, _scannedThrough, _storage.Changes)]);
            }
        }
        var bytes = new ArrayBufferWriter<byte>();
        for (int i = 0; i < entries.Count;)
        {
            long term = entries[i].Term;
            bytes.ResetWrittenCount();
            for (; i < entries.Count && entries[i].Term == term; i++)
            {
                var entry = entries[i];
                if (entry.Type == EntryType.ConfigChange)
                {
                    Invariant.True(entry.Data.Length == ConfigChange.EncodedLength, "a membership change of the wrong size");
                    // Every replica builds this batch from the entry, so it carries no timestamp of its own: all
                    // replicas hold the same bytes.
                    bytes.Write(ControlRecord.MembershipChange(entry.Index - 1, checked((int)term), entry.Data.Span, NoTimestamp));
                    _storage.AddChange(entry);
                    continue;
                }
                // An entry without data is this node's own no-op as a new leader: only it is ever proposed empty.
                bytes.Write(entry.Data.IsEmpty
                    ? ControlRecord.LeaderChange(entry.Index - 1, checked((int)term), _raft.Id, _log.Options.WallClockMs())
                    : CheckedBatches(entry));
            }
            await _log.WriteAsync(bytes.WrittenMemory, leaderEpoch: checked((int)term), assignOffsets: false);
        }
        await _log.FlushAsync();
    }

    /// <summary>An entry's data must be whole batches holding exactly its offsets, of its term.</summary>
    private static ReadOnlySpan<byte> CheckedBatches(in Entry entry)
    {
        var data = entry.Data.Span;
        long next = entry.Index - 1;
        for (int at = 0; at < data.Length;)
        {
            var batch = new RecordBatch(data[at..]);
            if (data.Length - at < RecordBatch.HeaderSize || batch.TotalSize > data.Length - at
                || batch.BaseOffset != next || batch.PartitionLeaderEpoch != entry.Term)
            {
                throw new RaftInvariantException($"entry {entry} does not hold its own batches (at offset {next})");
            }
            next = batch.LastOffset + 1;
            at += batch.TotalSize;
        }
        if (next != entry.LastIndex)
        {
            throw new RaftInvariantException($"entry {entry} holds batches through offset {next - 1}");
        }
        return data;
    }

    /// <summary>A copy of an append whose entries all carry their batches: what the core read back from storage comes
    /// without data and is read from the log (the batch cache, or disk for a follower far behind). Every entry was
    /// written before the Ready that sends it.</summary>
    private async ValueTask<Message> WithDataAsync(Message message)
    {
        var source = message.Entries!;
        var filled = new Entry[source.Length];
        for (int i = 0; i < source.Length; i++)
        {
            var e = source[i];
            // A proposal still carries its batch; runs read back from storage and the no-op do not.
            filled[i] = e.Data.IsEmpty ? new Entry(e.Term, e.Index, e.LastIndex, e.Type, await ReadBatchesAsync(e.Index - 1, e.LastIndex)) : e;
        }
        message.Entries = filled;
        return message;
    }

    /// <summary>The batches holding offsets [from, end), whole.</summary>
    private async ValueTask<byte[]> ReadBatchesAsync(long from, long end)
    {
        var bytes = new ArrayBufferWriter<byte>();
        for (long offset = from; offset < end;)
        {
            using var read = await _log.ReadAsync(offset, PartitionLogStorage.RunBytes);
            var records = read.Records.Span;
            if (records.IsEmpty)
            {
                throw new RaftInvariantException($"offsets [{offset}, {end}) are missing from {_log.Directory}");
            }
            for (int at = 0; at < records.Length && offset < end;)
            {
                var batch = new RecordBatch(records[at..]);
                if (batch.BaseOffset != offset)
                {
                    throw new RaftInvariantException($"{_log.Directory}: expected a batch at offset {offset}, found one at {batch.BaseOffset}");
                }
                bytes.Write(records.Slice(at, batch.TotalSize));
                offset = batch.LastOffset + 1;
                at += batch.TotalSize;
            }
        }
        return bytes.WrittenSpan.ToArray();
    }

    /// <summary>Completes proposals now committed in their own term, and fails those another leader replaced.</summary>
    private void SettleProposals()
    {
        int settled = 0;
        foreach (var proposal in _proposals)
        {
            long term = _raft.Log.Term(proposal.LastIndex);
            if (term != proposal.Term)
            {
                proposal.Done.TrySetException(new ProposalLostException($"offset {proposal.BaseOffset} of term {proposal.Term} was replaced by another leader's entries"));
            }
            else if (proposal.LastIndex <= _raft.Committed)
            {
                proposal.Done.TrySetResult(proposal.BaseOffset);
            }
            else
            {
                break;
            }
            settled++;
        }
        _proposals.RemoveRange(0, settled);
    }

    private void Stop(Exception e)
    {
        Failure ??= e;
        Log.Error(Subsystem, $"partition group {Group} stopped on node {_raft.Id}: {e.Message}");
        foreach (var proposal in _proposals)
        {
            proposal.Done.TrySetException(new ProposalRefusedException(ProposeResult.NotLeader, $"the replica stopped: {e.Message}"));
        }
        _proposals.Clear();
    }

    private sealed class Proposal(long lastIndex, long term, long baseOffset)
    {
        public long LastIndex { get; } = lastIndex;
        public long Term { get; } = term;
        public long BaseOffset { get; } = baseOffset;
        public TaskCompletionSource<long> Done { get; } = new();
    }
}

/// <summary>The group would not take the proposal (not the leader, a transfer under way, the tail full).</summary>
public sealed class ProposalRefusedException(ProposeResult result, string message) : Exception(message)
{
    public ProposeResult Result { get; } = result;
}

/// <summary>A proposal's entry was replaced by a later leader's before it committed: it is not in the log.</summary>
public sealed class ProposalLostException(string message) : Exception(message);
