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
/// membership changes are, only then send (with the bytes of every entry read back from the log), and Advance. What
/// depends on nothing still to be made durable leaves earlier (PartitionRaft.Sending.cs): a leader's appends that carry
/// their batches, and heartbeats and their answers, which must never wait for a slow disk. A storage failure or a
/// broken invariant stops the replica (fail-stop).
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
    private Task _pump = Task.CompletedTask;
    // The log below this offset was searched for membership changes: the saved list holds all of them there.
    private long _scannedThrough;

    private PartitionRaft(long group, RaftGroup raft, PartitionLog log, PartitionLogStorage storage, long scannedThrough, RaftStateStore states,
        Action<long, Message> send, List<(long Offset, long Start)> pendingStarts)
    {
        _pendingStarts = pendingStarts;
        _deletedBelow = states.LoadLogStart(group);
        _hardState = _savedHardState = states.Load(group);
        _sizeAtSave = log.SizeBytes;
        Group = group;
        _raft = raft;
        _log = log;
        _storage = storage;
        _scannedThrough = scannedThrough;
        _states = states;
        _send = send;
        _canSendNow = CanSendNow;
    }

    public long Group { get; }
    public int NodeId => _raft.Id;
    public Role Role => _raft.Role;
    public int Leader => _raft.Leader;
    public long Term => _raft.Term;
    public Membership Membership => _raft.Membership;

    /// <summary>The offset the next batch gets here (written, not necessarily committed).</summary>
    public long LogEndOffset => _raft.LastIndex;

    /// <summary>Offsets below it are committed (on a majority's disks, and never truncated) and on this replica's disk
    /// too: a follower may learn of a commit before its own write of those entries (or the cut of a diverged tail before
    /// them) completes. A leader counts itself only through its durable entries, so on the leader this is the commit
    /// index.</summary>
    public long HighWatermark => Math.Min(_raft.Committed, _raft.Log.Stable);

    /// <summary>Offsets below it are applied here, so committed and durable: no leader can cut them, and housekeeping
    /// (retention, compaction) may act on them.</summary>
    public long SettledEnd => Math.Min(_raft.Applied, HighWatermark);

    /// <summary>Set once the replica stopped (fail-stop, or closed).</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Awaited before a diverged tail is cut from the log, with the offset of the cut: what was derived from the
    /// log past it (a producer snapshot) must go first. On the replica's shard.</summary>
    public Func<long, ValueTask>? Truncating { get; set; }

    /// <summary>Called after each round of input or Ready handled: the high watermark, the leader or the role may have
    /// moved. On the replica's shard.</summary>
    public Action? Advanced { get; set; }

    /// <summary>One tick of the group's clock. When it ends a leadership (no word from a majority for an election
    /// timeout) or starts an election (no word from the leader), that is logged: under load it tells a stalled link
    /// or node from a failed one.</summary>
    public void Tick()
    {
        var role = _raft.Role;
        int leader = _raft.Leader;
        Input(static (raft, _) => raft.Tick(), default);
        if (role == Role.Leader && _raft.Role != Role.Leader)
        {
            Log.Warn(Subsystem, $"partition group {Group}: node {_raft.Id} stops leading term {_raft.Term}: no answer from a majority within an election timeout");
        }
        else if (role == Role.Follower && leader != 0 && _raft.Role != Role.Follower)
        {
            Log.Warn(Subsystem, $"partition group {Group}: node {_raft.Id} heard nothing from leader {leader} within an election timeout; campaigning");
        }
    }

    public void Campaign() => Input(static (raft, _) => raft.Campaign(), default);

    /// <summary>
    /// A message from a peer. One this replica cannot take (a malformed or foreign entry, an acknowledgement or commit
    /// past this log's end, a snapshot carrying data) is dropped with a warning: a peer's bug must not stop this
    /// replica, and Raft sends what is needed again. An append's entries go to the core one batch each: a run a leader read back from its
    /// storage is cut differently each time it is sent, but a batch is always the same batch, which the core's "same
    /// index and term is the same entry" needs. Batches whose CRCs were checked on the way in
    /// (<paramref name="batchesChecked"/>) are not checked again.
    /// </summary>
    public void Step(in Message message, byte[]? lease = null, bool batchesChecked = false)
    {
        if (message.Type == MessageType.TimeoutNow && _declinesLeadership)
        {
            GiveBack(lease);
            return; // this replica is handing its leadership away (its node stops): it takes none back
        }
        if (WhatIsWrongWith(message, verifyCrc: !batchesChecked) is { } wrong)
        {
            GiveBack(lease);
            Log.Warn(Subsystem, $"partition group {Group}: dropped a {message.Type} from node {message.From}: {wrong}");
            return;
        }
        var step = message;
        if (step.Entries is { Length: > 0 } entries)
        {
            step.Entries = OneBatchEach(entries);
            Hold(lease, entries[^1].LastIndex);
        }
        else
        {
            GiveBack(lease);
        }
        Input(static (raft, m) => raft.Step(m), step);
        if (message.Type is MessageType.AppendResponse or MessageType.HeartbeatResponse && !message.Reject)
        {
            NoteAcknowledgement(message.From);
        }
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
        SettleProposals();
        ReleaseRoom();
        SendWhatCanGoNow();
        Kick();
        Advanced?.Invoke();
    }

    /// <summary>
    /// Appends one record batch, whose checksum the caller verified, as the leader: it gets the next offsets and this term
    /// as its leader epoch, in a copy, and the task completes with its base offset once it is committed (acks=all), or
    /// once it is on this leader's disk when
    /// <paramref name="untilCommitted"/> is false (Kafka's acks=1: lost if this leader dies before a follower has it).
    /// Fails with <see cref="ProposalRefusedException"/> off the leader or when the uncommitted tail is full, and with
    /// <see cref="ProposalLostException"/> when another leader's entries replaced it. A <paramref name="logAppendTime"/> of 0
    /// or more marks the copy LogAppendTime with it (the topic keeps the broker's times), so every replica holds the
    /// leader's stamp.
    /// </summary>
    public Task<long> ProposeAsync(ReadOnlyMemory<byte> batch, bool untilCommitted = true, long logAppendTime = -1)
        => Propose(batch, untilCommitted, logAppendTime, control: false);

    /// <summary><see cref="ProposeAsync"/>, which refuses control batches unless <paramref name="control"/> (one of
    /// this driver's own: a log start marker).</summary>
    private Task<long> Propose(ReadOnlyMemory<byte> batch, bool untilCommitted, long logAppendTime, bool control)
    {
        if (Failure is not null)
        {
            return Task.FromException<long>(new ProposalRefusedException(ProposeResult.NotLeader, $"the replica stopped: {Failure.Message}"));
        }
        if (_raft.Role != Role.Leader)
        {
            return Task.FromException<long>(new ProposalRefusedException(ProposeResult.NotLeader, $"node {_raft.Leader} leads group {Group}"));
        }
        // The copy is leased from the pool like a peer's append (PartitionRaft.Leases.cs): given back once durable.
        var lease = ArrayPool<byte>.Shared.Rent(batch.Length);
        var copy = lease.AsMemory(0, batch.Length);
        batch.CopyTo(copy);
        // Its checksum was the caller's to verify (the produce path checks every batch's before it gets here); each
        // follower verifies it again on receipt.
        if (RecordBatch.Check(copy.Span, verifyCrc: false, out int size, PartitionLog.MaxBatchSize) != BatchCheck.Ok || size != copy.Length
            || new RecordBatch(copy.Span).IsControl != control)
        {
            GiveBack(lease);
            // Control batches are Raft's own (its no-op, membership changes) and the transaction coordinator's.
            throw new ArgumentException($"one whole {(control ? "control" : "data")} batch expected ({copy.Length} bytes)", nameof(batch));
        }
        if (logAppendTime >= 0)
        {
            RecordBatch.SetLogAppendTime(copy.Span, logAppendTime);
        }
        int records = new RecordBatch(copy.Span).LastOffsetDelta + 1;
        long baseOffset = _raft.LastIndex; // the log end: index n ends offset n - 1
        BinaryPrimitives.WriteInt64BigEndian(copy.Span[RecordBatch.BaseOffsetAt..], baseOffset);
        BinaryPrimitives.WriteInt32BigEndian(copy.Span[RecordBatch.LeaderEpochAt..], checked((int)_raft.Term));
        var result = _raft.Propose(copy, records);
        if (result != ProposeResult.Accepted)
        {
            GiveBack(lease);
            return Task.FromException<long>(new ProposalRefusedException(result, $"group {Group} refused the batch: {result}"));
        }
        Hold(lease, _raft.LastIndex);
        var proposal = new Proposal(_raft.LastIndex, _raft.Term, baseOffset, untilCommitted);
        _proposals.Add(proposal);
        NoteProposed(_raft.LastIndex, copy.Length);
        SendWhatCanGoNow();
        Kick();
        return proposal.Done.Task;
    }

    /// <summary>
    /// Completes with <paramref name="baseOffset"/> once offsets below <paramref name="end"/> (already in the log, such as
    /// an idempotent producer's batch sent again) are committed as they are now; fails as a proposal does when another
    /// leader's entries replace them or this replica stops leading first.
    /// </summary>
    public Task<long> WaitCommittedAsync(long baseOffset, long end)
    {
        if (end <= _raft.Committed)
        {
            return Task.FromResult(baseOffset);
        }
        if (Failure is not null || _raft.Role != Role.Leader || end > _raft.LastIndex)
        {
            return Task.FromException<long>(new ProposalRefusedException(ProposeResult.NotLeader, $"node {_raft.Leader} leads group {Group}"));
        }
        var waiter = new Proposal(end, _raft.Log.Term(end), baseOffset);
        int at = _proposals.FindLastIndex(p => p.LastIndex <= end) + 1;
        _proposals.Insert(at, waiter);
        return waiter.Done.Task;
    }

    /// <summary>Stops the replica for good (its partition closes): waiting proposals fail, and the Ready in hand is
    /// finished first, so nothing is left writing to the log when this completes. After a clean run, the hard state and
    /// the membership changes are saved through the log end, so the next open searches no log.</summary>
    public async ValueTask CloseAsync()
    {
        bool clean = Failure is null;
        Failure ??= new ObjectDisposedException($"partition group {Group}", "the replica was closed");
        FailProposals(Failure.Message);
        ReleaseRoom();
        await _pump;
        _leases.Clear(); // nothing writes or sends any more, but the core may still refer to them: left to the GC
        if (clean && _log.Failure is null)
        {
            await SaveStateAsync();
        }
    }

    private void Kick()
    {
        if (!_pumping && Failure is null && _raft.HasReady)
        {
            _pumping = true;
            _pump = PumpAsync();
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            while (Failure is null && _raft.HasReady)
            {
                var ready = _raft.GetReady();
                if (ready.Snapshot is { } snapshot)
                {
                    await InstallAsync(snapshot);
                }
                // A leader's appends of proposed batches leave before its own write, so the followers write in parallel
                // with it (Raft allows it: the leader counts itself only through its durable entries). Not in a Ready
                // that moves the term or the vote, which must be durable before anything leaves.
                bool early = !ready.HasHardState || (ready.HardState.Term == _savedHardState.Term && ready.HardState.Vote == _savedHardState.Vote);
                HoldAppends(ready.Messages, sendEarly: early);
                bool changesWritten = await WriteAsync(ready.Entries);
                SettleWritten();
                await SaveStateAsync(ready, changesWritten);
                await SendAsync(ready.Messages);
                _appendsHeld.Clear();
                _raft.Advance();
                await ApplySettledStartsAsync();
                GiveBackWritten();
                SettleProposals();
                ReleaseRoom();
                Advanced?.Invoke();
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

    /// <summary>Completes proposals now committed in their own term, and fails those another leader replaced; once this
    /// replica no longer leads, fails the rest (their outcome is unknown: the next leader may commit them or not, and an
    /// idempotent producer's retry finds out without a duplicate).</summary>
    private void SettleProposals()
    {
        if (_proposals.Count == 0)
        {
            return;
        }
        // Taken out of the list before any completes: a completion runs its continuation inline, which may propose again.
        int settled = 0;
        while (settled < _proposals.Count && (_raft.Log.Term(_proposals[settled].LastIndex) != _proposals[settled].Term
            || _proposals[settled].LastIndex <= _raft.Committed))
        {
            settled++;
        }
        if (settled == 0)
        {
            if (_raft.Role != Role.Leader)
            {
                FailProposals($"node {_raft.Id} no longer leads group {Group}");
            }
            return;
        }
        var done = _proposals.GetRange(0, settled);
        _proposals.RemoveRange(0, settled);
        foreach (var proposal in done)
        {
            if (_raft.Log.Term(proposal.LastIndex) != proposal.Term)
            {
                proposal.Done.TrySetException(new ProposalLostException($"offset {proposal.BaseOffset} of term {proposal.Term} was replaced by another leader's entries"));
            }
            else
            {
                ReplicationStats.Here.Committed(proposal.ProposedTicks);
                proposal.Done.TrySetResult(proposal.BaseOffset);
            }
        }
        if (_raft.Role != Role.Leader)
        {
            FailProposals($"node {_raft.Id} no longer leads group {Group}");
        }
    }

    /// <summary>Completes the proposals that wait only for this leader's own write (acks=1) once it is durable.</summary>
    private void SettleWritten()
    {
        long durable = _log.DurableOffset;
        int kept = 0;
        Proposal[]? written = null;
        int count = 0;
        for (int i = 0; i < _proposals.Count; i++)
        {
            var proposal = _proposals[i];
            if (!proposal.UntilCommitted && proposal.LastIndex <= durable && _raft.Log.Term(proposal.LastIndex) == proposal.Term)
            {
                (written ??= new Proposal[_proposals.Count])[count++] = proposal;
                continue;
            }
            _proposals[kept++] = proposal;
        }
        if (written is null)
        {
            return;
        }
        _proposals.RemoveRange(kept, _proposals.Count - kept);
        for (int i = 0; i < count; i++)
        {
            written[i].Done.TrySetResult(written[i].BaseOffset);
        }
    }

    private void Stop(Exception e)
    {
        Failure ??= e;
        Log.Error(Subsystem, $"partition group {Group} stopped on node {_raft.Id}: {e.Message}");
        FailProposals($"the replica stopped: {e.Message}");
        ReleaseRoom();
    }

    private void FailProposals(string why)
    {
        if (_proposals.Count == 0)
        {
            return;
        }
        var failed = _proposals.ToArray();
        _proposals.Clear();
        foreach (var proposal in failed)
        {
            proposal.Done.TrySetException(new ProposalRefusedException(ProposeResult.NotLeader, why));
        }
    }

    private sealed class Proposal(long lastIndex, long term, long baseOffset, bool untilCommitted = true)
    {
        public long LastIndex { get; } = lastIndex;
        public long Term { get; } = term;
        public long BaseOffset { get; } = baseOffset;
        public bool UntilCommitted { get; } = untilCommitted;
        public long ProposedTicks { get; } = System.Diagnostics.Stopwatch.GetTimestamp();
        public TaskCompletionSource<long> Done { get; } = new();
    }
}
