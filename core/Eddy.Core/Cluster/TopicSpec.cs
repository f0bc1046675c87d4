namespace Eddy.Cluster;

/// <summary>A topic to create: -1 partitions or replication factor means the broker's default.</summary>
public sealed record TopicSpec(string Name, int Partitions, short ReplicationFactor, IReadOnlyDictionary<string, string> Configs);
