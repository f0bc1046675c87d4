namespace Eddy.Raft;

/// <summary>What a group member is doing right now.</summary>
public enum Role : byte
{
    Follower,
    /// <summary>Asking whether it could win before disturbing anyone's term (pre-vote).</summary>
    PreCandidate,
    Candidate,
    Leader,
}

public enum EntryType : byte
{
    /// <summary>Application command; an empty one is the no-op a new leader appends.</summary>
    Normal,
    /// <summary>A <see cref="ConfigChange"/>, encoded; it takes effect as soon as it is in a log.</summary>
    ConfigChange,
}

/// <summary>
/// One log entry, covering the indices Index..LastIndex. The controller's commands take one index each; a partition's
/// entry is a record batch, whose indices are its records' end offsets (offset + 1), so an entry spans as many indices
/// as the batch holds records. Terms and commits are per index, and the core only ever cuts the log between entries.
/// The data is the application's; the core never looks inside Normal entries.
/// </summary>
public readonly struct Entry
{
    public readonly long Term;
    public readonly long Index;
    public readonly long LastIndex;
    public readonly EntryType Type;
    public readonly ReadOnlyMemory<byte> Data;

    public Entry(long term, long index, EntryType type, ReadOnlyMemory<byte> data)
        : this(term, index, index, type, data)
    {
    }

    public Entry(long term, long index, long lastIndex, EntryType type, ReadOnlyMemory<byte> data)
    {
        Invariant.True(term > 0 && index > 0, "entry term and index start at 1");
        Invariant.True(lastIndex >= index, "an entry covers at least one index");
        Invariant.True(type == EntryType.Normal || lastIndex == index, "a config change covers one index");
        Term = term;
        Index = index;
        LastIndex = lastIndex;
        Type = type;
        Data = data;
    }

    /// <summary>How many indices the entry covers (a record batch's record count).</summary>
    public long Span => LastIndex - Index + 1;

    public override string ToString() =>
        $"{Index}{(LastIndex != Index ? $"-{LastIndex}" : "")}@{Term}{(Type == EntryType.ConfigChange ? "/cc" : "")}";
}

/// <summary>What must survive a crash, written and fsynced before the messages of the same Ready are sent.</summary>
public readonly record struct HardState(long Term, int Vote, long Commit);

/// <summary>The application's state at Index, plus the membership in force there.</summary>
public sealed class SnapshotImage
{
    public SnapshotImage(long index, long term, Membership membership, byte[] data)
    {
        Invariant.True(index > 0 && term > 0, "snapshot index and term start at 1");
        Index = index;
        Term = term;
        Membership = membership;
        Data = data;
    }

    public long Index { get; }
    public long Term { get; }
    public Membership Membership { get; }
    public byte[] Data { get; }
}

/// <summary>A read-index answer: once the local state machine has applied Index, the read is linearizable.</summary>
public readonly record struct ReadState(long RequestId, long Index);

public enum ProposeResult : byte
{
    Accepted,
    NotLeader,
    /// <summary>A leadership transfer is in progress; the leader refuses writes until it ends.</summary>
    TransferInProgress,
    /// <summary>Single-server changes go one at a time, and only after the leader committed in its own term.</summary>
    ConfigChangePending,
    InvalidConfigChange,
    /// <summary>A leadership transfer to a node that is not a voter of the group.</summary>
    InvalidTarget,
    /// <summary>The uncommitted tail is at its limit; the caller should back off.</summary>
    Overloaded,
}
