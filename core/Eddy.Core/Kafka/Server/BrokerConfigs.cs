using System.Globalization;
using Eddy.Cluster;

namespace Eddy.Kafka.Server;

/// <summary>One broker config as DescribeConfigs reports it: name, value, type, documentation and source.</summary>
public sealed record BrokerConfig(string Name, string Value, ConfigValueType Type, string Documentation, sbyte Source);

/// <summary>
/// The broker configs DescribeConfigs reports for this node, with Kafka's names, all read-only (nothing is changed
/// at run time yet): the node's own settings, and for each topic config the broker config that sets its default
/// (Kafka's synonym, e.g. log.retention.ms for retention.ms). A value that differs from Eddy's built-in default is
/// reported as STATIC_BROKER_CONFIG (set in the node's configuration), otherwise DEFAULT_CONFIG.
/// </summary>
public static class BrokerConfigs
{
    private static readonly Dictionary<string, string> TopicSynonyms = new(StringComparer.Ordinal)
    {
        [TopicConfigs.CleanupPolicy] = "log.cleanup.policy",
        [TopicConfigs.RetentionMs] = "log.retention.ms",
        [TopicConfigs.RetentionBytes] = "log.retention.bytes",
        [TopicConfigs.SegmentBytes] = "log.segment.bytes",
        [TopicConfigs.SegmentMs] = "log.roll.ms",
        [TopicConfigs.MaxMessageBytes] = "message.max.bytes",
        [TopicConfigs.MessageTimestampType] = "log.message.timestamp.type",
        [TopicConfigs.DeleteRetentionMs] = "log.cleaner.delete.retention.ms",
        [TopicConfigs.MinInsyncReplicas] = "min.insync.replicas",
        [TopicConfigs.CompressionType] = "compression.type",
    };

    /// <summary>The broker config that sets a topic config's default.</summary>
    public static string SynonymOf(string topicConfig) => TopicSynonyms[topicConfig];

    /// <summary>A topic config's value where the topic sets none: the node's setting for it (min.insync.replicas), as
    /// STATIC_BROKER_CONFIG when it is not Eddy's built-in default, else the built-in default.</summary>
    public static (string Value, sbyte Source) TopicDefault(TopicConfig config, BrokerOptions options)
    {
        string value = config.Name == TopicConfigs.MinInsyncReplicas ? Int(options.MinInsyncReplicas) : config.Default;
        return (value, value == config.Default ? ConfigSources.Default : ConfigSources.StaticBroker);
    }

    /// <summary>Every broker config reported, in name order.</summary>
    public static List<BrokerConfig> Of(TopicTable table, KafkaServer server)
    {
        var options = table.Options;
        var defaults = new BrokerOptions { DataDirectory = "" };
        var configs = new List<BrokerConfig>
        {
            Static("broker.id", Int(server.NodeId), ConfigValueType.Int, "This node's id."),
            Static("node.id", Int(server.NodeId), ConfigValueType.Int, "This node's id (the KRaft name)."),
            Static("log.dirs", Path.GetFullPath(options.DataDirectory), ConfigValueType.String, "The directory that holds this node's data."),
            Static("advertised.listeners", $"PLAINTEXT://{server.AdvertisedHost}:{server.AdvertisedPort}", ConfigValueType.String,
                "The address clients are told to connect to."),
            Setting("auto.create.topics.enable", table.AutoCreateTopics ? "true" : "false", defaults.AutoCreateTopics ? "true" : "false",
                ConfigValueType.Boolean, "Metadata for an unknown topic creates it."),
            Setting("num.partitions", Int(table.DefaultPartitions), Int(defaults.DefaultPartitions), ConfigValueType.Int,
                "Partitions of an auto-created topic, or of CreateTopics with -1."),
            Setting("default.replication.factor", Int(options.DefaultReplicationFactor), Int(defaults.DefaultReplicationFactor), ConfigValueType.Int,
                "Replication factor of an auto-created topic, or of CreateTopics with -1."),
            Setting("offsets.topic.num.partitions", Int(options.OffsetsPartitions), Int(defaults.OffsetsPartitions), ConfigValueType.Int,
                $"Partitions of {TopicTable.OffsetsTopic}, fixed when it is created."),
            Setting("offsets.topic.replication.factor", Int(options.OffsetsReplicationFactor), Int(defaults.OffsetsReplicationFactor), ConfigValueType.Short,
                $"Replicas of each {TopicTable.OffsetsTopic} partition (at most one per node), fixed when it is created."),
            Setting("log.retention.check.interval.ms", Long((long)options.HousekeepingInterval.TotalMilliseconds), Long((long)defaults.HousekeepingInterval.TotalMilliseconds),
                ConfigValueType.Long, "How often retention and compaction run (ms)."),
            Setting("socket.request.max.bytes", Int(server.Options.MaxRequestBytes), Int(KafkaServerOptions.DefaultMaxRequestBytes), ConfigValueType.Int,
                "Largest request accepted, in bytes."),
            Setting("delete.topic.enable", "true", "true", ConfigValueType.Boolean, "DeleteTopics deletes topics."),
        };
        foreach (var topicConfig in TopicConfigs.All)
        {
            var (value, source) = TopicDefault(topicConfig, options);
            configs.Add(new BrokerConfig(SynonymOf(topicConfig.Name), value, topicConfig.Type,
                $"The default of the topic config {topicConfig.Name}: {topicConfig.Documentation}", source));
        }
        configs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return configs;
    }

    private static BrokerConfig Static(string name, string value, ConfigValueType type, string documentation)
        => new(name, value, type, documentation, ConfigSources.StaticBroker);

    private static BrokerConfig Setting(string name, string value, string builtIn, ConfigValueType type, string documentation)
        => new(name, value, type, documentation, value == builtIn ? ConfigSources.Default : ConfigSources.StaticBroker);

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Long(long value) => value.ToString(CultureInfo.InvariantCulture);
}
