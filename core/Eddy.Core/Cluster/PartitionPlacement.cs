namespace Eddy.Cluster;

/// <summary>
/// Which shard owns a partition. A pure function of the topic name, partition and shard count, so every shard
/// computes the same answer without asking; a topic's partitions go round the shards from a per-topic starting
/// point, so many small topics do not all start on shard 0. Data directories do not depend on it, so a restart with
/// another --smp only moves partitions between shards.
/// </summary>
public static class PartitionPlacement
{
    public static int ShardOf(string topic, int partition, int shardCount)
    {
        // FNV-1a: stable across processes (string.GetHashCode is randomized per process).
        uint hash = 2166136261;
        foreach (char c in topic)
        {
            hash = (hash ^ c) * 16777619;
        }
        return (int)((hash + (uint)partition) % (uint)shardCount);
    }
}
