using Eddy.Raft;

namespace Eddy.Cluster;

/// <summary>What a replicated partition's Raft replica is opened with: its group, the Raft settings, the replicas as
/// placed (the voters before any membership change) and where its outgoing messages go.</summary>
public sealed record ReplicaSetup(long Group, RaftOptions Options, Membership Voters, Action<long, Message> Send);
