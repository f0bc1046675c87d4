namespace Eddy.Raft;

public sealed partial class RaftGroup
{
    /// <summary>Upper bound on reads waiting for confirmation; past it the caller must back off.</summary>
    public const int MaxPendingReads = 4096;

    private readonly Queue<(long RequestId, long Index, long Sequence)> readsAwaitingQuorum = new();
    private readonly List<long> readsAwaitingCommit = new();
    private long heartbeatSequence;
    private bool readHeartbeatPending;

    /// <summary>
    /// Linearizable read through read-index: the answer (a ReadState) names a commit index; once the
    /// state machine has applied it, the read sees every write acknowledged before the call. The
    /// leader first proves it is still leader with a heartbeat round answered by a quorum.
    /// </summary>
    public ProposeResult ReadIndex(long requestId)
    {
        if (Role != Role.Leader) return ProposeResult.NotLeader;
        if (readsAwaitingQuorum.Count + readsAwaitingCommit.Count >= MaxPendingReads) return ProposeResult.Overloaded;
        // Until an entry of this term commits, the leader's commit index may lag what earlier
        // leaders committed, so it is not yet a safe read point.
        if (log.Term(log.Committed) != Term)
        {
            readsAwaitingCommit.Add(requestId);
            return ProposeResult.Accepted;
        }
        if (options.Bug == PlantedBug.StaleRead)
        {
            readStates.Add(new ReadState(requestId, log.Committed));
            return ProposeResult.Accepted;
        }
        QueueRead(requestId);
        return ProposeResult.Accepted;
    }

    private void QueueRead(long requestId)
    {
        // Confirmed by the next heartbeat round (sent from GetReady, shared by every read queued now).
        readsAwaitingQuorum.Enqueue((requestId, log.Committed, heartbeatSequence + 1));
        readHeartbeatPending = true;
    }

    private void ReadsBecameServable()
    {
        foreach (long id in readsAwaitingCommit) QueueRead(id);
        readsAwaitingCommit.Clear();
    }

    private void ReleaseConfirmedReads()
    {
        if (readsAwaitingQuorum.Count == 0) return;
        var voters = Membership.Voters;
        var values = quorumScratch.AsSpan(0, voters.Length);
        for (int i = 0; i < voters.Length; i++)
        {
            int v = voters[i];
            values[i] = v == Id ? heartbeatSequence : progress.TryGetValue(v, out var pr) ? pr.AckedSequence : 0;
        }
        long confirmed = Membership.QuorumValue(values, Membership.Quorum);
        while (readsAwaitingQuorum.TryPeek(out var read) && read.Sequence <= confirmed)
        {
            readsAwaitingQuorum.Dequeue();
            readStates.Add(new ReadState(read.RequestId, read.Index));
        }
    }

    private void ResetReads()
    {
        // Reads in flight die with the leadership; their callers time out and retry elsewhere.
        readsAwaitingQuorum.Clear();
        readsAwaitingCommit.Clear();
        heartbeatSequence = 0;
        readHeartbeatPending = false;
    }
}
