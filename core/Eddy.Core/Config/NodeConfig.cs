using System.Net;
using Eddy.Observability;
using Eddy.Runtime.IO;

namespace Eddy.Config;

/// <summary>
/// A node's settings, with their defaults. <see cref="NodeProperties.All"/> says how each is set (eddy.yaml key, flag,
/// EDDY_* variable), its bounds and description; <see cref="NodeConfigLoader"/> fills it. Flag names follow
/// `rpk redpanda start` so they read familiar.
/// </summary>
public sealed class NodeConfig
{
    /// <summary>--data-dir: where logs and metadata live. Default: ./eddy-data.</summary>
    public string DataDirectory { get; set; } = "./eddy-data";

    /// <summary>--kafka-addr: the Kafka API listener. Default: 127.0.0.1:9092.</summary>
    public IPEndPoint KafkaAddress { get; set; } = new(IPAddress.Loopback, 9092);

    /// <summary>--advertise-kafka-addr: the address clients are told to use. Default: the listener's; port 0 means the listener's port.</summary>
    public string? AdvertisedKafkaAddress { get; set; }

    /// <summary>--kafka-max-request-bytes: the largest Kafka request frame accepted (Kafka's socket.request.max.bytes). Default: 100 MiB.</summary>
    public int KafkaMaxRequestBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>--rpc-addr: node-to-node RPC. Default: 127.0.0.1:33145.</summary>
    public IPEndPoint RpcAddress { get; set; } = new(IPAddress.Loopback, 33145);

    /// <summary>--advertise-rpc-addr: the RPC address other nodes are told to use (and find this node by in --seeds).
    /// Default: the listener's; port 0 means the listener's port.</summary>
    public string? AdvertisedRpcAddress { get; set; }

    /// <summary>--admin-addr: admin HTTP API. Default: 127.0.0.1:9644.</summary>
    public IPEndPoint AdminAddress { get; set; } = new(IPAddress.Loopback, 9644);

    /// <summary>--node-id: this node's id in the cluster; 0 lets the node find it (its position in --seeds, 1 alone, or
    /// the id its data directory recorded). Default: 0.</summary>
    public int NodeId { get; set; }

    /// <summary>--seeds: the RPC addresses (host:port) of the nodes that form the cluster, this one included. Default: none
    /// (a one-node cluster).</summary>
    public IReadOnlyList<string> Seeds { get; set; } = [];

    /// <summary>--rack: the rack (or zone) this node is in, reported in Metadata. Default: none.</summary>
    public string? Rack { get; set; }

    /// <summary>--smp: number of shards. Default: one per available core.</summary>
    public int? Shards { get; set; }

    /// <summary>--io-backend: io_uring, epoll or auto. Default: auto (io_uring, epoll when refused).</summary>
    public IoBackendKind IoBackend { get; set; } = IoBackendKind.Auto;

    /// <summary>--log-level. Default: info.</summary>
    public LogLevel LogLevel { get; set; } = LogLevel.Info;

    public LogFormat LogFormat { get; set; } = LogFormat.Text;

    /// <summary>--auto-create-topics: create a topic when a client asks for one that does not exist. Default: true (a development node).</summary>
    public bool AutoCreateTopics { get; set; } = true;

    /// <summary>--default-partitions: partitions of an automatically created topic. Default: 1 (Kafka's num.partitions).</summary>
    public int DefaultPartitions { get; set; } = 1;

    /// <summary>--batch-cache-bytes: memory each shard keeps recently appended batches in, for tailing readers. Default: 64 MiB.</summary>
    public long BatchCacheBytes { get; set; } = Storage.ShardStorage.DefaultBatchCacheBytes;

    /// <summary>--replica-lag-time-max-ms: how long a follower may go without catching up with its leader before it leaves
    /// the in-sync replicas (Kafka's replica.lag.time.max.ms). Default: 30000.</summary>
    public int ReplicaLagTimeMaxMs { get; set; } = 30_000;

    /// <summary>--log-retention-check-interval-ms: how often each shard applies retention and compaction to its partitions
    /// (Kafka's log.retention.check.interval.ms). Default: 300000 (5 minutes).</summary>
    public int LogRetentionCheckIntervalMs { get; set; } = 300_000;

    /// <summary>--min-insync-replicas: min.insync.replicas of the topics that do not set their own (Kafka's broker
    /// config of that name). Default: 1.</summary>
    public int MinInsyncReplicas { get; set; } = 1;

    /// <summary>--test-lose-unsynced-writes: fault tests only. Every file's writes are held in memory until its fdatasync
    /// (<see cref="Storage.VolatileWriteCache"/>), so that a SIGKILL loses what a power cut could. Default: false.</summary>
    public bool TestLoseUnsyncedWrites { get; set; }

    /// <summary>--offsets-topic-replication-factor: replicas of each __consumer_offsets partition when the cluster creates
    /// that topic, at most one per node it has then (Kafka's offsets.topic.replication.factor). Default: 3.</summary>
    public int OffsetsTopicReplicationFactor { get; set; } = 3;

    /// <summary>--read-window-bytes: memory each shard keeps disk-read windows in between reads, over all its logs. Default: 64 MiB.</summary>
    public long ReadWindowBytes { get; set; } = Storage.ShardStorage.DefaultReadWindowBytes;

    /// <summary>The configuration file the settings were read from (--config, EDDY_CONFIG or ./eddy.yaml); null when none was.</summary>
    public string? ConfigFile { get; set; }
}
