namespace Eddy.Raft.Driver;

/// <summary>The group would not take the proposal (not the leader, a transfer under way, the tail full).</summary>
public sealed class ProposalRefusedException(ProposeResult result, string message) : Exception(message)
{
    public ProposeResult Result { get; } = result;
}

/// <summary>A proposal's entry was replaced by a later leader's before it committed: it is not in the log.</summary>
public sealed class ProposalLostException(string message) : Exception(message);
