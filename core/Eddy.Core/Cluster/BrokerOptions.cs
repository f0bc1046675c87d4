using Eddy.Config;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>What the broker needs from the node's settings, with Kafka's or Redpanda's defaults.</summary>
public sealed class BrokerOptions
{
    /// <summary>Root of the node's data: DATA/kafka/TOPIC/PARTITION_REVISION and DATA/controller.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>auto.create.topics.enable: Metadata for an unknown topic creates it. Default true (development mode).</summary>
    public bool AutoCreateTopics { get; init; } = true;

    /// <summary>num.partitions: partitions of an auto-created topic, or of CreateTopics with -1. Default 1.</summary>
    public int DefaultPartitions { get; init; } = 1;

    /// <summary>default.replication.factor for CreateTopics with -1. Default 1.</summary>
    public short DefaultReplicationFactor { get; init; } = 1;

    /// <summary>Most partitions one topic may have; CreateTopics asking for more gets INVALID_PARTITIONS. Default 10,000.</summary>
    public int MaxPartitionsPerTopic { get; init; } = 10_000;

    /// <summary>offsets.topic.num.partitions: partitions of __consumer_offsets, fixed at its creation. Default 16.</summary>
    public int OffsetsPartitions { get; init; } = 16;

    /// <summary>offsets.topic.replication.factor: replicas of each __consumer_offsets partition, at most one per node
    /// the cluster has when it creates that topic (a lone node's is not replicated). Fixed at creation. Default 3.</summary>
    public short OffsetsReplicationFactor { get; init; } = 3;

    /// <summary>min.insync.replicas of a topic that does not set its own: replicas that must be in sync for an acks=all
    /// produce. Default 1 (Kafka's).</summary>
    public int MinInsyncReplicas { get; init; } = 1;

    /// <summary>Space reserved ahead of a user partition's writes. Default 32 MiB (Redpanda's fallocation step).</summary>
    public long PreallocateBytes { get; init; } = 32L << 20;

    /// <summary>The same for internal topics, which stay small. Default 1 MiB.</summary>
    public long InternalPreallocateBytes { get; init; } = 1L << 20;

    /// <summary>log.retention.check.interval.ms: how often retention and compaction run. Default 5 minutes.</summary>
    public TimeSpan HousekeepingInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Bytes of recently appended batches each shard keeps in memory for tailing readers. Default 64 MiB.</summary>
    public long BatchCacheBytes { get; init; } = ShardStorage.DefaultBatchCacheBytes;

    /// <summary>Bytes of disk-read windows each shard keeps between reads, over all its logs. Default 64 MiB.</summary>
    public long ReadWindowBytes { get; init; } = ShardStorage.DefaultReadWindowBytes;

    /// <summary>replica.lag.time.max.ms: a follower that has not caught up with its leader for this long is out of the
    /// in-sync replicas (Metadata's isr, min.insync.replicas). Default 30 s.</summary>
    public TimeSpan ReplicaLagTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The node's part in the cluster: id, RPC listener, seeds. Default: a lone node, RPC on an ephemeral
    /// loopback port.</summary>
    public ControllerOptions Controller { get; init; } = new();

    /// <summary>How long start waits for a new cluster to form before it gives up. Default: as long as it takes.</summary>
    public TimeSpan FormTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    public static BrokerOptions FromConfig(NodeConfig config) => new()
    {
        Controller = new ControllerOptions
        {
            NodeId = config.NodeId,
            RpcAddress = config.RpcAddress,
            AdvertisedRpcAddress = config.AdvertisedRpcAddress,
            Seeds = config.Seeds,
            Rack = config.Rack ?? "",
        },
        DataDirectory = config.DataDirectory,
        AutoCreateTopics = config.AutoCreateTopics,
        DefaultPartitions = config.DefaultPartitions,
        BatchCacheBytes = config.BatchCacheBytes,
        ReadWindowBytes = config.ReadWindowBytes,
        ReplicaLagTime = TimeSpan.FromMilliseconds(config.ReplicaLagTimeMaxMs),
        HousekeepingInterval = TimeSpan.FromMilliseconds(config.LogRetentionCheckIntervalMs),
        OffsetsReplicationFactor = (short)config.OffsetsTopicReplicationFactor,
        MinInsyncReplicas = config.MinInsyncReplicas,
    };
}
