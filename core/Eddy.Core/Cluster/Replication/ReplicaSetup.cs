using Eddy.Raft;

namespace Eddy.Cluster;

/// <summary>What a replicated partition's Raft replica is opened with: its group, the Raft settings, the replicas as
/// placed (the voters before any membership change), where its outgoing messages go, how long a follower may lag and
/// stay in sync, and whom to tell when this replica starts or stops serving as leader.</summary>
public sealed record ReplicaSetup(long Group, RaftOptions Options, Membership Voters, Action<long, Message> Send, TimeSpan MaxLag, Action<Partition> LeadershipChanged);
