namespace Eddy.Raft;

public enum ConfigChangeKind : byte
{
    /// <summary>Add a non-voting member that receives the log; the safe first step for a new server.</summary>
    AddLearner,
    /// <summary>Turn a caught-up learner into a voter: the one-server change that grows the quorum.</summary>
    PromoteLearner,
    /// <summary>Remove a voter or a learner.</summary>
    Remove,
}

public readonly record struct ConfigChange(ConfigChangeKind Kind, int NodeId)
{
    public const int EncodedLength = 5;

    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        bytes[0] = (byte)Kind;
        BitConverter.TryWriteBytes(bytes.AsSpan(1), NodeId);
        return bytes;
    }

    public static ConfigChange Decode(ReadOnlySpan<byte> bytes)
    {
        Invariant.True(bytes.Length == EncodedLength, "config change entry has the wrong length");
        return new ConfigChange((ConfigChangeKind)bytes[0], BitConverter.ToInt32(bytes[1..]));
    }
}

/// <summary>
/// Who votes and who only listens. Immutable: a change makes a new value, so a snapshot or an
/// older log position can keep the one in force there.
/// </summary>
public sealed class Membership
{
    private readonly int[] voters;
    private readonly int[] learners;

    public Membership(IEnumerable<int> voters, IEnumerable<int>? learners = null)
    {
        this.voters = voters.Distinct().Order().ToArray();
        this.learners = (learners ?? []).Distinct().Order().ToArray();
        Invariant.True(this.voters.Length + this.learners.Length <= RaftOptions.MaxMembers, "too many members");
        Invariant.True(!this.voters.Intersect(this.learners).Any(), "a member is either a voter or a learner");
        Invariant.True(this.voters.All(id => id > 0) && this.learners.All(id => id > 0), "member ids start at 1");
    }

    public ReadOnlySpan<int> Voters => voters;
    public ReadOnlySpan<int> Learners => learners;
    public int Quorum => voters.Length / 2 + 1;

    public bool IsVoter(int id) => Array.BinarySearch(voters, id) >= 0;
    public bool IsLearner(int id) => Array.BinarySearch(learners, id) >= 0;
    public bool Contains(int id) => IsVoter(id) || IsLearner(id);

    /// <summary>Whether the change is a legal single-server step from this membership.</summary>
    public bool Allows(ConfigChange change) => change.NodeId > 0 && change.Kind switch
    {
        ConfigChangeKind.AddLearner => !Contains(change.NodeId) && voters.Length + learners.Length < RaftOptions.MaxMembers,
        ConfigChangeKind.PromoteLearner => IsLearner(change.NodeId),
        // Never remove the last voter: the group could not elect anyone again.
        ConfigChangeKind.Remove => IsLearner(change.NodeId) || (IsVoter(change.NodeId) && voters.Length > 1),
        _ => false,
    };

    public Membership Apply(ConfigChange change)
    {
        Invariant.True(Allows(change), "config change not allowed from this membership");
        int id = change.NodeId;
        return change.Kind switch
        {
            ConfigChangeKind.AddLearner => new Membership(voters, learners.Append(id)),
            ConfigChangeKind.PromoteLearner => new Membership(voters.Append(id), learners.Where(l => l != id)),
            _ => new Membership(voters.Where(v => v != id), learners.Where(l => l != id)),
        };
    }

    /// <summary>
    /// The highest value that a quorum of voters has reached. The caller fills values[i] for
    /// Voters[i]; the span is sorted in place, so nothing is allocated.
    /// </summary>
    public static long QuorumValue(Span<long> values, int quorum)
    {
        Invariant.True(values.Length > 0 && quorum > 0 && quorum <= values.Length, "quorum needs voters");
        values.Sort();
        // Sorted ascending: the value at Length - quorum is reached by at least quorum voters.
        return values[values.Length - quorum];
    }

    public override string ToString() => $"voters=[{string.Join(',', voters)}] learners=[{string.Join(',', learners)}]";
}
