namespace Eddy.Raft;

internal enum ReplicationState : byte
{
    /// <summary>Next is a guess: send one append per heartbeat until the follower's answer pins it.</summary>
    Probe,
    /// <summary>Next is known: stream appends optimistically, bounded by the inflight window.</summary>
    Replicate,
    /// <summary>The follower needs entries we compacted: a snapshot is on its way.</summary>
    Snapshot,
}

/// <summary>The leader's view of one follower.</summary>
internal sealed class Progress
{
    private readonly long[] inflight;
    private int inflightStart;
    private int inflightCount;

    public Progress(int id, long next, int maxInflight)
    {
        Id = id;
        Next = next;
        inflight = new long[maxInflight];
    }

    public int Id { get; }
    public long Match { get; private set; }
    public long Next { get; private set; }
    public ReplicationState State { get; private set; }
    /// <summary>In Probe: an append is out and unanswered, so wait (or for the next heartbeat).</summary>
    public bool ProbeSent { get; set; }
    public long PendingSnapshot { get; private set; }
    /// <summary>Ticks since the snapshot went out; a lost snapshot is retried after an election timeout.</summary>
    public int SnapshotTicks { get; set; }
    /// <summary>Heard from since the last check-quorum round.</summary>
    public bool RecentActive { get; set; }
    /// <summary>Highest heartbeat sequence the follower has answered (read-index confirmation).</summary>
    public long AckedSequence { get; set; }

    public bool InflightFull => inflightCount == inflight.Length;

    public bool IsPaused => State switch
    {
        ReplicationState.Probe => ProbeSent,
        ReplicationState.Replicate => InflightFull,
        _ => true,
    };

    public void BecomeProbe()
    {
        // After a snapshot the follower holds at least the snapshot: probe from just past it.
        long next = State == ReplicationState.Snapshot ? Math.Max(Match + 1, PendingSnapshot + 1) : Match + 1;
        Reset(ReplicationState.Probe, next);
    }

    public void BecomeReplicate() => Reset(ReplicationState.Replicate, Match + 1);

    public void BecomeSnapshot(long snapshotIndex)
    {
        Reset(ReplicationState.Snapshot, Next);
        PendingSnapshot = snapshotIndex;
    }

    private void Reset(ReplicationState state, long next)
    {
        State = state;
        Next = next;
        ProbeSent = false;
        PendingSnapshot = 0;
        SnapshotTicks = 0;
        inflightStart = 0;
        inflightCount = 0;
    }

    /// <summary>An acknowledgement of index; false when it is stale (acknowledges nothing new).</summary>
    public bool MaybeUpdate(long index)
    {
        bool updated = index > Match;
        if (updated)
        {
            Match = index;
            ProbeSent = false;
        }
        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>Streaming: the entries through lastSent are out; the next append starts after them.</summary>
    public void SentEntries(long lastSent)
    {
        Invariant.True(State == ReplicationState.Replicate && !InflightFull, "optimistic send outside the window");
        Next = lastSent + 1;
        inflight[(inflightStart + inflightCount) % inflight.Length] = lastSent;
        inflightCount++;
    }

    /// <summary>Frees the window slots of every append acknowledged by index.</summary>
    public void FreeInflightThrough(long index)
    {
        while (inflightCount > 0 && inflight[inflightStart] <= index)
        {
            inflightStart = (inflightStart + 1) % inflight.Length;
            inflightCount--;
        }
    }

    /// <summary>A heartbeat answer proves the follower is alive: let one more append out of a full window.</summary>
    public void FreeFirstInflight()
    {
        if (inflightCount == 0) return;
        inflightStart = (inflightStart + 1) % inflight.Length;
        inflightCount--;
    }

    /// <summary>
    /// A rejection of the append after `rejected`; `hint` is where the leader's and follower's logs may
    /// last agree. False when the rejection is stale and changes nothing.
    /// </summary>
    public bool MaybeDecreaseTo(long rejected, long hint)
    {
        if (State == ReplicationState.Replicate)
        {
            // Already acknowledged past it: an old, reordered rejection.
            if (rejected <= Match) return false;
            Reset(ReplicationState.Probe, Match + 1);
            return true;
        }
        // In probe only the answer to the append we are waiting on counts.
        if (Next - 1 != rejected) return false;
        Next = Math.Max(Math.Min(rejected, hint + 1), Match + 1);
        ProbeSent = false;
        return true;
    }
}
