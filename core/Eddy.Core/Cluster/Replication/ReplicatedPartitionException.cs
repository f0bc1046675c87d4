namespace Eddy.Cluster;

/// <summary>Work a replicated partition does not support yet (moving its start offset); Kafka clients get
/// POLICY_VIOLATION, as Kafka answers DeleteRecords where its policy forbids it.</summary>
public sealed class ReplicatedPartitionException(string message) : Exception(message);
