namespace Eddy.Raft;

/// <summary>Bugs the simulator can plant to prove its checkers fail; never set outside tests.</summary>
internal enum PlantedBug : byte
{
    None,
    /// <summary>Commit an earlier term's entry by counting replicas (Raft paper, figure 8).</summary>
    CommitOldTerm,
    /// <summary>Report the vote as none in the hard state, so a restart forgets it.</summary>
    ForgetVote,
    /// <summary>Answer read-index at once, without a quorum confirming leadership.</summary>
    StaleRead,
    /// <summary>A follower accepts an append whatever the term of the entry before it.</summary>
    SkipPrevCheck,
}

public sealed class RaftOptions
{
    /// <summary>Limits that keep every buffer and quorum computation bounded.</summary>
    public const int MaxMembers = 16;
    public const int MaxEntriesPerMessageLimit = 4096;
    public const int MaxInflightLimit = 1024;

    public int NodeId { get; init; }
    /// <summary>Followers wait a random time in [ElectionTicks, 2*ElectionTicks) before campaigning.</summary>
    public int ElectionTicks { get; init; } = 10;
    public int HeartbeatTicks { get; init; } = 2;
    public int MaxEntriesPerMessage { get; init; } = 64;
    /// <summary>Append messages a leader may have unacknowledged per follower while streaming.</summary>
    public int MaxInflightMessages { get; init; } = 32;
    /// <summary>Proposals refused once this many entries are appended but not committed.</summary>
    public int MaxUncommittedEntries { get; init; } = 10_000;
    public bool PreVote { get; init; } = true;
    public bool CheckQuorum { get; init; } = true;
    /// <summary>Seeds the election-timeout jitter; the core owns no other randomness.</summary>
    public ulong RandomSeed { get; init; }
    internal PlantedBug Bug { get; init; }

    internal void Validate()
    {
        Invariant.True(NodeId > 0, "node ids start at 1 (0 means none)");
        Invariant.True(HeartbeatTicks > 0 && ElectionTicks > HeartbeatTicks, "heartbeat must be shorter than the election timeout");
        Invariant.True(MaxEntriesPerMessage is > 0 and <= MaxEntriesPerMessageLimit, "entries per message out of range");
        Invariant.True(MaxInflightMessages is > 0 and <= MaxInflightLimit, "inflight messages out of range");
        Invariant.True(MaxUncommittedEntries > 0, "uncommitted entry limit must be positive");
    }
}
