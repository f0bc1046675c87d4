namespace Eddy.Raft;

public enum MessageType : byte
{
    PreVote,
    PreVoteResponse,
    Vote,
    VoteResponse,
    /// <summary>Entries after (Index, LogTerm), and the leader's commit.</summary>
    Append,
    /// <summary>Index is the follower's durable match, or on Reject the rejected Index with a hint: the follower holds
    /// term LogTerm through RejectHint.</summary>
    AppendResponse,
    /// <summary>Commit (capped at the follower's match) and a read-index Sequence; coalesced across groups.</summary>
    Heartbeat,
    HeartbeatResponse,
    /// <summary>Carries a SnapshotImage; answered with an AppendResponse at the snapshot's index.</summary>
    Snapshot,
    /// <summary>Leadership transfer: the target campaigns at once, skipping pre-vote.</summary>
    TimeoutNow,
}

/// <summary>
/// One Raft message. A plain struct so the outgoing lists hold no per-message objects; only
/// Append allocates (its entry array), and Snapshot carries a reference to an existing image.
/// </summary>
public struct Message
{
    public MessageType Type;
    public int From;
    public int To;
    public long Term;
    /// <summary>Append: index before the entries. Vote/PreVote: candidate's last index. AppendResponse: see type.</summary>
    public long Index;
    /// <summary>Append: term at Index. Vote/PreVote: candidate's last term. Rejection: the hint's term.</summary>
    public long LogTerm;
    public long Commit;
    public Entry[]? Entries;
    public bool Reject;
    public long RejectHint;
    /// <summary>Heartbeat round a response acknowledges; read-index requests wait for a quorum of it.</summary>
    public long Sequence;
    /// <summary>Vote asked for by a transfer target: voters answer even inside their leader lease.</summary>
    public bool Force;
    public SnapshotImage? Snapshot;

    public override readonly string ToString() =>
        $"{Type} {From}->{To} t{Term} i{Index} lt{LogTerm} c{Commit} n{Entries?.Length ?? 0}{(Reject ? " reject" : "")}";
}
