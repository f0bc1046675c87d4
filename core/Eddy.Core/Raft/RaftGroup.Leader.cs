namespace Eddy.Raft;

public sealed partial class RaftGroup
{
    private void TickLeader()
    {
        heartbeatElapsed++;
        if (electionElapsed >= options.ElectionTicks)
        {
            electionElapsed = 0;
            if (options.CheckQuorum && !QuorumRecentlyActive())
            {
                // Cut off from a majority: a new leader may already exist, so stop serving.
                BecomeFollower(Term, 0);
                return;
            }
            // A transfer that did not finish within an election timeout is abandoned.
            leadTransferee = 0;
        }
        foreach (var (_, pr) in progress)
        {
            if (pr.State != ReplicationState.Snapshot || ++pr.SnapshotTicks < options.ElectionTicks) continue;
            // No answer: the snapshot (or its answer) was lost. Probe again, which resends it if needed.
            pr.BecomeProbe();
        }
        if (heartbeatElapsed >= options.HeartbeatTicks)
        {
            heartbeatElapsed = 0;
            BroadcastHeartbeat();
        }
    }

    private bool QuorumRecentlyActive()
    {
        int active = 0;
        foreach (int voter in Membership.Voters)
        {
            if (voter == Id || (progress.TryGetValue(voter, out var pr) && pr.RecentActive)) active++;
        }
        foreach (var (_, pr) in progress) pr.RecentActive = false;
        return active >= Membership.Quorum;
    }

    private void StepLeader(in Message m)
    {
        if (!progress.TryGetValue(m.From, out var pr)) return;
        switch (m.Type)
        {
            case MessageType.AppendResponse:
                pr.RecentActive = true;
                if (m.Reject) HandleAppendRejection(pr, m);
                else HandleAppendAck(pr, m.Index);
                break;
            case MessageType.HeartbeatResponse:
                HandleHeartbeatResponse(pr, m);
                break;
        }
    }

    private void HandleAppendRejection(Progress pr, in Message m)
    {
        // The follower holds term LogTerm through RejectHint, its last index of that term. Both logs got that
        // term's entries from its one leader, so where both hold the term they agree through the shorter run; where
        // we lack it, probe from the end of our last older term. Either point ends an entry in both logs, so an
        // append never starts inside a record batch (Kafka's leader-epoch truncation, KIP-101).
        long agreed = log.LastIndexWithTermAtMost(log.LastIndex, m.LogTerm);
        if (log.Term(agreed) == m.LogTerm) agreed = Math.Min(agreed, m.RejectHint);
        // An honest hint always goes back (its term is older than ours at the rejected index); one that does not would
        // put Next inside an entry. Ignored: the next heartbeat answer retries.
        if (agreed >= m.Index) return;
        if (pr.MaybeDecreaseTo(m.Index, agreed)) SendAppend(pr, allowEmpty: true);
    }

    private void HandleAppendAck(Progress pr, long index)
    {
        Invariant.True(index <= log.LastIndex, "follower acknowledged entries the leader never had");
        if (!pr.MaybeUpdate(index)) return;
        switch (pr.State)
        {
            case ReplicationState.Probe:
                pr.BecomeReplicate();
                break;
            case ReplicationState.Snapshot when pr.Match >= pr.PendingSnapshot:
                pr.BecomeProbe();
                pr.BecomeReplicate();
                break;
            case ReplicationState.Replicate:
                pr.FreeInflightThrough(index);
                break;
        }
        MaybeCommit();
        while (SendAppend(pr, allowEmpty: false)) { }
        if (pr.Id == leadTransferee && pr.Match == log.LastIndex) SendTimeoutNow(pr.Id);
    }

    private void HandleHeartbeatResponse(Progress pr, in Message m)
    {
        pr.RecentActive = true;
        pr.ProbeSent = false;
        // The follower is alive: let one append through a full window, and retransmit what it lacks.
        if (pr.State == ReplicationState.Replicate && pr.InflightFull) pr.FreeFirstInflight();
        if (pr.Match < log.LastIndex) SendAppend(pr, allowEmpty: true);
        if (m.Sequence > pr.AckedSequence)
        {
            pr.AckedSequence = m.Sequence;
            ReleaseConfirmedReads();
        }
    }

    /// <summary>Advances commit to what a quorum holds durably, counting only entries of this term.</summary>
    private bool MaybeCommit()
    {
        var voters = Membership.Voters;
        var values = quorumScratch.AsSpan(0, voters.Length);
        for (int i = 0; i < voters.Length; i++) values[i] = MatchOf(voters[i]);
        long candidate = Membership.QuorumValue(values, Membership.Quorum);
        if (candidate <= log.Committed) return false;
        // Raft's figure 8: an older term's entry on a majority can still be overwritten, so it
        // commits only indirectly, under an entry of this term.
        if (log.Term(candidate) != Term && options.Bug != PlantedBug.CommitOldTerm) return false;
        bool firstInTerm = log.Term(log.Committed) != Term && log.Term(candidate) == Term;
        log.CommitTo(candidate);
        if (firstInTerm) ReadsBecameServable();
        return true;
    }

    /// <summary>The leader counts itself only through its durable entries.</summary>
    private long MatchOf(int id) => id == Id ? log.Stable : progress.TryGetValue(id, out var pr) ? pr.Match : 0;

    private void BroadcastAppend()
    {
        foreach (var (_, pr) in progress) SendAppend(pr, allowEmpty: false);
    }

    /// <summary>Sends the follower what it lacks (or a snapshot); false when nothing went out.</summary>
    private bool SendAppend(Progress pr, bool allowEmpty)
    {
        if (pr.IsPaused) return false;
        long prevIndex = pr.Next - 1;
        long prevTerm = log.Term(prevIndex);
        if (prevTerm < 0)
        {
            SendSnapshot(pr);
            return true;
        }
        Invariant.True(prevIndex <= log.LastIndex, "follower's next index beyond the leader's log");
        var entries = log.Slice(pr.Next, log.LastIndex, options.MaxEntriesPerMessage);
        if (entries.Length == 0 && !allowEmpty) return false;
        Send(new Message
        {
            Type = MessageType.Append, To = pr.Id, Index = prevIndex, LogTerm = prevTerm,
            Entries = entries, Commit = log.Committed,
        });
        if (pr.State == ReplicationState.Replicate && entries.Length > 0) pr.SentEntries(entries[^1].LastIndex);
        else if (pr.State == ReplicationState.Probe) pr.ProbeSent = true;
        return true;
    }

    private void SendSnapshot(Progress pr)
    {
        var snap = latestSnapshot;
        Invariant.True(snap is not null && snap.Index == log.SnapshotIndex, "log compacted without a snapshot to send");
        pr.BecomeSnapshot(snap.Index);
        Send(new Message { Type = MessageType.Snapshot, To = pr.Id, Snapshot = snap });
    }

    private void BroadcastHeartbeat()
    {
        heartbeatSequence++;
        foreach (var (_, pr) in progress)
        {
            // Capped at the follower's match: it must not commit entries it may not hold.
            Send(new Message
            {
                Type = MessageType.Heartbeat, To = pr.Id, Commit = Math.Min(pr.Match, log.Committed),
                Sequence = heartbeatSequence,
            });
        }
        // With no other voter the leader confirms itself.
        ReleaseConfirmedReads();
    }

    private void SendTimeoutNow(int to) => Send(new Message { Type = MessageType.TimeoutNow, To = to });

    /// <summary>Hands leadership to target: catch it up, then tell it to campaign at once.</summary>
    public ProposeResult TransferLeadership(int target)
    {
        if (Role != Role.Leader) return ProposeResult.NotLeader;
        if (target == Id) return ProposeResult.Accepted;
        if (!Membership.IsVoter(target) || !progress.TryGetValue(target, out var pr)) return ProposeResult.InvalidTarget;
        if (leadTransferee == target) return ProposeResult.Accepted;
        leadTransferee = target;
        // The transfer gets one election timeout from now.
        electionElapsed = 0;
        if (pr.Match == log.LastIndex) SendTimeoutNow(target);
        else SendAppend(pr, allowEmpty: true);
        return ProposeResult.Accepted;
    }

    /// <summary>Adds progress for new members and drops it for departed ones.</summary>
    private void SyncProgressWithMembership()
    {
        var members = Membership;
        Invariant.True(members.IsVoter(Id), "the leader left its own group");
        foreach (int id in members.Voters) AddProgress(id);
        foreach (int id in members.Learners) AddProgress(id);
        List<int>? departed = null;
        foreach (var (id, _) in progress) { if (!members.Contains(id)) (departed ??= new()).Add(id); }
        if (departed is null) return;
        foreach (int id in departed)
        {
            progress.Remove(id);
            if (id == leadTransferee) leadTransferee = 0;
        }
        // A smaller quorum may already hold more.
        MaybeCommit();
    }

    private void AddProgress(int id)
    {
        if (id == Id || progress.ContainsKey(id)) return;
        progress[id] = new Progress(id, log.LastIndex + 1, options.MaxInflightMessages);
    }
}
