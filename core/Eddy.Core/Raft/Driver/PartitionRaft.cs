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
public sealed partial class PartitionRaft
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

    public void Tick() => Input(static (raft, _) => raft.Tick(), default);

    public void Campaign() => Input(static (raft, _) => raft.Campaign(), default);

    /// <summary>
    /// A message from a peer. One this replica cannot take (a malformed or foreign entry, an acknowledgement or commit
    /// past this log's end, a snapshot) is dropped with a warning: a peer's bug must not stop this replica, and Raft
    /// sends what is needed again. An append's entries go to the core one batch each: a run a leader read back from its
    /// storage is cut differently each time it is sent, but a batch is always the same batch, which the core's "same
    /// index and term is the same entry" needs.
    /// </summary>
    public void Step(in Message message)
    {
        if (WhatIsWrongWith(message) is { } wrong)
        {
            Log.Warn(Subsystem, $"partition group {Group}: dropped a {message.Type} from node {message.From}: {wrong}");
            return;
        }
        var step = message;
        if (step.Entries is { Length: > 0 } entries)
        {
            step.Entries = OneBatchEach(entries);
        }
        Input(static (raft, m) => raft.Step(m), step);
    }

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
        if (RecordBatch.Check(copy, verifyCrc: true, out int size, PartitionLog.MaxBatchSize) != BatchCheck.Ok || size != copy.Length
            || new RecordBatch(copy).IsControl)
        {
            // Control batches are Raft's own (its no-op, membership changes) and the transaction coordinator's.
            throw new ArgumentException($"one whole, checksummed data batch expected ({copy.Length} bytes)", nameof(batch));
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
                    if (message.Entries is not { Length: > 0 })
                    {
                        _send(Group, message);
                    }
                    else if (await WithDataAsync(message) is { } filled)
                    {
                        _send(Group, filled);
                    }
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
