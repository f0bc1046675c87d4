using System.Globalization;
using Eddy.Cluster;

namespace Eddy.Kafka.Server;

/// <summary>One broker config as DescribeConfigs reports it: name, value, type, documentation and source.</summary>
public sealed record BrokerConfig(string Name, string Value, ConfigValueType Type, string Documentation, sbyte Source, bool ReadOnly = true);

/// <summary>
/// The broker configs DescribeConfigs reports for this node, with Kafka's names, read-only but for those that are
/// cluster properties (changed on the cluster-wide defaults, <see cref="ClusterDefaultChanges"/>): the node's own settings, and for each topic config the broker config that sets its default
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
            ClusterWide(table, ClusterProperties.AutoCreateTopics, table.AutoCreateTopics ? "true" : "false", defaults.AutoCreateTopics ? "true" : "false",
                ConfigValueType.Boolean, "Metadata for an unknown topic creates it."),
            ClusterWide(table, ClusterProperties.DefaultTopicPartitions, Int(table.DefaultPartitions), Int(defaults.DefaultPartitions), ConfigValueType.Int,
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

    /// <summary>The cluster-wide defaults (the BROKER resource named ""): the cluster properties Kafka can see that are
    /// set, as DYNAMIC_DEFAULT_BROKER_CONFIG.</summary>
    public static List<BrokerConfig> ClusterDefaults(TopicTable table) => [.. ClusterProperties.KafkaVisible
        .Where(p => ClusterProperties.SetIn(table.Controller.View.Config, p) is not null)
        .Select(p => new BrokerConfig(p.KafkaName!, ClusterProperties.SetIn(table.Controller.View.Config, p)!,
            p.Type == ClusterPropertyType.Boolean ? ConfigValueType.Boolean : ConfigValueType.Int, p.Description, ConfigSources.DynamicDefaultBroker, ReadOnly: false))
        .OrderBy(c => c.Name, StringComparer.Ordinal)];

    /// <summary>A broker config that is a cluster property: changeable (on the cluster-wide defaults), and reported as
    /// DYNAMIC_DEFAULT_BROKER_CONFIG where the cluster sets it.</summary>
    private static BrokerConfig ClusterWide(TopicTable table, ClusterProperty property, string value, string builtIn, ConfigValueType type, string documentation)
    {
        bool set = ClusterProperties.SetIn(table.Controller.View.Config, property) is not null;
        return Setting(property.KafkaName!, value, builtIn, type, documentation) with
        {
            Source = set ? ConfigSources.DynamicDefaultBroker : value == builtIn ? ConfigSources.Default : ConfigSources.StaticBroker,
            ReadOnly = false,
        };
    }

    private static BrokerConfig Static(string name, string value, ConfigValueType type, string documentation)
        => new(name, value, type, documentation, ConfigSources.StaticBroker);

    private static BrokerConfig Setting(string name, string value, string builtIn, ConfigValueType type, string documentation)
        => new(name, value, type, documentation, value == builtIn ? ConfigSources.Default : ConfigSources.StaticBroker);

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Long(long value) => value.ToString(CultureInfo.InvariantCulture);
}
