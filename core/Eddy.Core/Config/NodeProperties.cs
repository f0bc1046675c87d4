using System.Net;
using System.Text;
using Eddy.Observability;
using Eddy.Runtime;
using Eddy.Runtime.IO;
using Eddy.Storage;

namespace Eddy.Config;

/// <summary>
/// The table of node settings: every property `eddy start` reads from eddy.yaml, EDDY_* variables and flags.
/// `eddy start --help` and docs/configuration.md are printed from it; a test keeps the doc in step.
/// </summary>
public static class NodeProperties
{
    public const string EnvironmentPrefix = "EDDY_";

    /// <summary>Names the configuration file; a flag or variable only (a file cannot name another file).</summary>
    public const string ConfigFlag = "--config";
    public const string ConfigVariable = EnvironmentPrefix + "CONFIG";

    /// <summary>Read when neither --config nor EDDY_CONFIG names a file, if it exists in the working directory.</summary>
    public const string DefaultConfigFile = "eddy.yaml";

    /// <summary>EDDY_* variables that other Eddy tools read (tests, benchmarks, the CLI): `eddy start` leaves them alone rather
    /// than refusing them as misspelt settings.</summary>
    public static readonly IReadOnlySet<string> OtherToolsVariables = new HashSet<string>(StringComparer.Ordinal)
    {
        "EDDY_RECAPTURE", "EDDY_BENCH_PIN",
        "EDDY_BROKERS", "EDDY_ADMIN_URL", // the CLI's (docs/cli.md)
    };

    public static readonly IReadOnlyList<NodeProperty> All =
    [
        new NodeProperty<string>("data_dir", ValueSyntaxes.Path, (c, v) => c.DataDirectory = v, c => c.DataDirectory,
            "data directory: partition logs and node metadata; relative to the working directory"),
        new NodeProperty<IPEndPoint>("kafka_addr", ValueSyntaxes.ListenAddress, (c, v) => c.KafkaAddress = v, c => c.KafkaAddress.ToString(),
            "Kafka API listener"),
        new NodeProperty<string>("advertise_kafka_addr", ValueSyntaxes.HostPort(minPort: 0), (c, v) => c.AdvertisedKafkaAddress = v,
            c => c.AdvertisedKafkaAddress ?? "the listener's address",
            "address clients are told to connect to; port 0 means the listener's port"),
        new NodeProperty<int>("kafka_max_request_bytes", ValueSyntaxes.Int(1024, 1 << 30), (c, v) => c.KafkaMaxRequestBytes = v,
            c => c.KafkaMaxRequestBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "largest Kafka request accepted (Kafka's socket.request.max.bytes)", unit: "bytes"),
        new NodeProperty<IPEndPoint>("rpc_addr", ValueSyntaxes.ListenAddress, (c, v) => c.RpcAddress = v, c => c.RpcAddress.ToString(),
            "node-to-node RPC listener"),
        new NodeProperty<string>("advertise_rpc_addr", ValueSyntaxes.HostPort(minPort: 0), (c, v) => c.AdvertisedRpcAddress = v,
            c => c.AdvertisedRpcAddress ?? "the listener's address",
            "RPC address other nodes are told to connect to, and the one this node is listed under in seeds; port 0 means the listener's port"),
        new NodeProperty<IPEndPoint>("admin_addr", ValueSyntaxes.ListenAddress, (c, v) => c.AdminAddress = v, c => c.AdminAddress.ToString(),
            "admin HTTP API listener"),
        new NodeProperty<int>("node_id", ValueSyntaxes.Int(0, int.MaxValue), (c, v) => c.NodeId = v,
            c => c.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "this node's id in the cluster; 0 finds it: the node's position in seeds, 1 without seeds, or the id the data directory recorded"),
        new NodeProperty<IReadOnlyList<string>>("seeds", ValueSyntaxes.HostPortList, (c, v) => c.Seeds = v,
            c => c.Seeds.Count == 0 ? "none (a new cluster)" : string.Join(',', c.Seeds),
            "RPC addresses of the nodes that form the cluster together, this node included"),
        new NodeProperty<string>("rack", ValueSyntaxes.Name, (c, v) => c.Rack = v, c => c.Rack ?? "none",
            "rack or zone of this node, reported to clients in Metadata"),
        new NodeProperty<int>("smp", ValueSyntaxes.Int(1, 1024), (c, v) => c.Shards = v,
            c => c.Shards?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "one per available core",
            "number of shards (one thread each, pinned to a core)"),
        new NodeProperty<IoBackendKind>("io_backend", ValueSyntaxes.Choice("io_uring|epoll|auto", ShardGroupOptions.ParseBackend),
            (c, v) => c.IoBackend = v, c => BackendName(c.IoBackend),
            "I/O backend; auto is io_uring, or epoll where io_uring is refused"),
        new NodeProperty<LogLevel>("log_level", ValueSyntaxes.Choice("trace|debug|info|warn|error", Log.ParseLevel),
            (c, v) => c.LogLevel = v, c => c.LogLevel.ToString().ToLowerInvariant(),
            "least severe log level written"),
        new NodeProperty<LogFormat>("log_format", ValueSyntaxes.Choice("text|json", Log.ParseFormat),
            (c, v) => c.LogFormat = v, c => c.LogFormat.ToString().ToLowerInvariant(),
            "log line format: text (time, level, shard, subsystem, message) or one JSON object per line with those fields"),
        new NodeProperty<bool>("auto_create_topics", ValueSyntaxes.Bool, (c, v) => c.AutoCreateTopics = v,
            c => c.AutoCreateTopics ? "true" : "false",
            "create a topic when a client asks for one that does not exist (Kafka's auto.create.topics.enable)"),
        // At most the broker's partitions per topic (BrokerOptions.MaxPartitionsPerTopic), or every auto-create fails.
        new NodeProperty<int>("default_partitions", ValueSyntaxes.Int(1, 10_000), (c, v) => c.DefaultPartitions = v,
            c => c.DefaultPartitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "partitions of an automatically created topic (Kafka's num.partitions)"),
        new NodeProperty<long>("batch_cache_bytes", ValueSyntaxes.Long(0, ShardStorage.MaxBytes), (c, v) => c.BatchCacheBytes = v,
            c => c.BatchCacheBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "memory per shard for recently appended batches, so tailing consumers read no disk; below 1 MiB caches nothing", unit: "bytes"),
        new NodeProperty<long>("read_window_bytes", ValueSyntaxes.Long(0, ShardStorage.MaxBytes), (c, v) => c.ReadWindowBytes = v,
            c => c.ReadWindowBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "memory per shard for disk-read windows kept between reads, so a consumer reading from disk resumes where it stopped", unit: "bytes"),
        new NodeProperty<int>("replica_lag_time_max_ms", ValueSyntaxes.Int(100, 3_600_000), (c, v) => c.ReplicaLagTimeMaxMs = v,
            c => c.ReplicaLagTimeMaxMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "how long a follower may go without catching up with its leader before it leaves the in-sync replicas (Kafka's replica.lag.time.max.ms)"),
        new NodeProperty<int>("log_retention_check_interval_ms", ValueSyntaxes.Int(100, 86_400_000), (c, v) => c.LogRetentionCheckIntervalMs = v,
            c => c.LogRetentionCheckIntervalMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "how often each shard applies retention and compaction to its partitions (Kafka's log.retention.check.interval.ms)"),
        new NodeProperty<int>("offsets_topic_replication_factor", ValueSyntaxes.Int(1, Eddy.Cluster.ClusterView.MaxBrokers), (c, v) => c.OffsetsTopicReplicationFactor = v,
            c => c.OffsetsTopicReplicationFactor.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "replicas of each __consumer_offsets partition when the cluster creates that topic, at most one per node it has then (Kafka's offsets.topic.replication.factor)"),
        new NodeProperty<int>("min_insync_replicas", ValueSyntaxes.Int(1, Eddy.Raft.RaftOptions.MaxMembers), (c, v) => c.MinInsyncReplicas = v,
            c => c.MinInsyncReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "replicas that must be in sync for an acks=all produce, for topics that do not set min.insync.replicas (Kafka's min.insync.replicas)"),
        new NodeProperty<bool>("test_lose_unsynced_writes", ValueSyntaxes.Bool, (c, v) => c.TestLoseUnsyncedWrites = v,
            c => c.TestLoseUnsyncedWrites ? "true" : "false",
            "fault tests only: hold every file's writes in memory until fdatasync, so that SIGKILL loses what a power cut could; slow"),
    ];

    private static readonly Dictionary<string, NodeProperty> ByName = All.ToDictionary(p => p.Name, StringComparer.Ordinal);
    private static readonly Dictionary<string, NodeProperty> ByFlag = All.ToDictionary(p => p.Flag, StringComparer.Ordinal);
    private static readonly Dictionary<string, NodeProperty> ByVariable = All.ToDictionary(p => p.EnvironmentVariable, StringComparer.Ordinal);

    public static NodeProperty? FindByName(string name) => ByName.GetValueOrDefault(name);
    public static NodeProperty? FindByFlag(string flag) => ByFlag.GetValueOrDefault(flag);
    public static NodeProperty? FindByVariable(string variable) => ByVariable.GetValueOrDefault(variable);

    private static string BackendName(IoBackendKind kind) => kind switch
    {
        IoBackendKind.IoUring => "io_uring",
        IoBackendKind.Epoll => "epoll",
        _ => "auto",
    };

    /// <summary>The `eddy start --help` text.</summary>
    public static string Help()
    {
        var text = new StringBuilder();
        text.AppendLine("usage: eddy start [flags]");
        text.AppendLine();
        foreach (var p in All)
        {
            string flag = p.IsSwitch ? $"{p.Flag}[={p.Syntax}]" : $"{p.Flag} {p.Syntax}";
            string unit = p.Unit is null ? "" : $" {p.Unit}";
            string bounds = p.Bounds is null ? "" : $"; {p.Bounds}";
            text.AppendLine($"  {flag,-40} {p.Description} [default: {p.Default}{unit}{bounds}]");
        }
        text.AppendLine($"  {ConfigFlag + " FILE",-40} read settings from this YAML file [default: ./{DefaultConfigFile} when it exists]");
        text.AppendLine();
        text.AppendLine($"Each flag is also a key in {DefaultConfigFile} (--kafka-addr: kafka_addr) and an environment variable");
        text.AppendLine($"({ConfigVariable}, EDDY_KAFKA_ADDR, ...). Flags win over variables, variables over the file.");
        text.AppendLine("docs/configuration.md describes them all.");
        return text.ToString();
    }

    /// <summary>The property table of docs/configuration.md.</summary>
    public static string MarkdownTable()
    {
        var text = new StringBuilder();
        text.AppendLine("| eddy.yaml key | flag | variable | value | default | description |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var p in All)
        {
            string value = p.Syntax + (p.Unit is null ? "" : $" ({p.Unit})") + (p.Bounds is null ? "" : $"; {p.Bounds}");
            text.AppendLine($"| `{p.Name}` | `{p.Flag}` | `{p.EnvironmentVariable}` | {Escape(value)} | {Escape(p.Default)} | {Escape(p.Description)} |");
        }
        return text.ToString();
    }

    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal);
}
