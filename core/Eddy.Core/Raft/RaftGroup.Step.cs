namespace Eddy.Raft;

public sealed partial class RaftGroup
{
    /// <summary>Feeds one incoming message to the state machine.</summary>
    public void Step(in Message m)
    {
        Invariant.True(m.To == Id && m.From != Id && m.From > 0, "message addressed to another node");
        if (m.Term > Term && !StepHigherTerm(m)) return;
        if (m.Term < Term)
        {
            StepLowerTerm(m);
            return;
        }
        switch (m.Type)
        {
            case MessageType.PreVote:
            case MessageType.Vote:
                HandleVoteRequest(m);
                return;
            case MessageType.PreVoteResponse:
                if (Role == Role.PreCandidate) TallyVote(m.From, !m.Reject);
                return;
            case MessageType.VoteResponse:
                if (Role == Role.Candidate) TallyVote(m.From, !m.Reject);
                return;
        }
        if (Role == Role.Leader) StepLeader(m);
        else StepFollower(m);
    }

    /// <summary>A message from a later term. False when it must be dropped.</summary>
    private bool StepHigherTerm(in Message m)
    {
        bool isVoteRequest = m.Type is MessageType.Vote or MessageType.PreVote;
        if (isVoteRequest && !m.Force && InLeaderLease()) return false;
        // Pre-votes ask about a term nobody entered yet; granted pre-vote answers carry that term too.
        if (m.Type == MessageType.PreVote) return true;
        if (m.Type == MessageType.PreVoteResponse && !m.Reject) return true;
        bool fromLeader = m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot;
        BecomeFollower(m.Term, fromLeader ? m.From : 0);
        return true;
    }

    /// <summary>
    /// With check-quorum a follower that heard from a leader within the election timeout ignores
    /// vote requests, so a node that was cut off (or removed) cannot depose a healthy leader.
    /// </summary>
    private bool InLeaderLease() => options.CheckQuorum && Leader != 0 && electionElapsed < options.ElectionTicks;

    private void StepLowerTerm(in Message m)
    {
        if ((options.CheckQuorum || options.PreVote) && m.Type is MessageType.Append or MessageType.Heartbeat)
        {
            // A stale leader's term is behind ours: tell it, so it steps down instead of lingering.
            Send(new Message { Type = MessageType.AppendResponse, To = m.From });
        }
        else if (m.Type == MessageType.PreVote)
        {
            Send(new Message { Type = MessageType.PreVoteResponse, To = m.From, Reject = true });
        }
    }

    private void HandleVoteRequest(in Message m)
    {
        bool preVote = m.Type == MessageType.PreVote;
        bool canVote = vote == m.From
            || (vote == 0 && Leader == 0)
            || (preVote && m.Term > Term);
        var responseType = preVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        if (canVote && log.IsUpToDate(m.Index, m.LogTerm))
        {
            // A granted answer carries the asked term: for a pre-vote ours has not moved.
            Send(new Message { Type = responseType, To = m.From, Term = m.Term });
            if (!preVote)
            {
                electionElapsed = 0;
                vote = m.From;
            }
        }
        else
        {
            Send(new Message { Type = responseType, To = m.From, Reject = true });
        }
    }

    private void StepFollower(in Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append:
            case MessageType.Heartbeat:
            case MessageType.Snapshot:
                // Same term, so this is the one leader of the term; a candidate concedes to it.
                if (Role != Role.Follower) BecomeFollower(Term, m.From);
                electionElapsed = 0;
                Leader = m.From;
                if (m.Type == MessageType.Append) HandleAppend(m);
                else if (m.Type == MessageType.Heartbeat) HandleHeartbeat(m);
                else HandleSnapshot(m);
                break;
            case MessageType.TimeoutNow:
                if (Membership.IsVoter(Id)) Campaign(CampaignKind.Transfer);
                break;
        }
    }

    private void HandleAppend(in Message m)
    {
        if (m.Index < log.Committed)
        {
            // Everything through our commit matches the leader; say how far that is.
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, Index = log.Committed });
            return;
        }
        var incoming = m.Entries ?? [];
        long prevTerm = options.Bug == PlantedBug.SkipPrevCheck && m.Index <= log.LastIndex ? log.Term(m.Index) : m.LogTerm;
        long last = log.TryAppend(m.Index, prevTerm, incoming);
        if (last >= 0)
        {
            RecordConfigEntries(incoming);
            log.CommitTo(Math.Min(m.Commit, last));
            // Sent after this Ready's entries are durable: the leader counts it toward commit.
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, Index = last });
            return;
        }
        // The hint: our newest term not after the leader's at the rejected index, and where our run of it ends. The
        // leader skips a whole term per round trip, and lands on an entry boundary of both logs.
        long hint = log.LastIndexWithTermAtMost(Math.Min(m.Index, log.LastIndex), m.LogTerm);
        Invariant.True(hint >= log.SnapshotIndex, "the leader's log disagrees with our snapshot");
        Send(new Message
        {
            Type = MessageType.AppendResponse, To = m.From, Reject = true, Index = m.Index,
            RejectHint = log.EndOfTerm(hint), LogTerm = log.Term(hint),
        });
    }

    private void HandleHeartbeat(in Message m)
    {
        // The leader caps Commit at our acknowledged match, so we hold every entry it names.
        Invariant.True(m.Commit <= log.LastIndex, "heartbeat commit beyond the follower's log");
        log.CommitTo(m.Commit);
        Send(new Message { Type = MessageType.HeartbeatResponse, To = m.From, Sequence = m.Sequence });
    }

    private void HandleSnapshot(in Message m)
    {
        var snap = m.Snapshot;
        Invariant.True(snap is not null, "snapshot message without an image");
        if (snap.Index <= log.Committed)
        {
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, Index = log.Committed });
            return;
        }
        if (log.MatchTerm(snap.Index, snap.Term))
        {
            // We already hold the snapshot's last entry, hence its whole prefix: just commit.
            log.CommitTo(snap.Index);
        }
        else
        {
            log.RestoreSnapshot(snap.Index, snap.Term);
            baseMembership = snap.Membership;
            configHistory.Clear();
            latestSnapshot = snap;
            snapshotToInstall = snap;
        }
        Send(new Message { Type = MessageType.AppendResponse, To = m.From, Index = snap.Index });
    }
}
