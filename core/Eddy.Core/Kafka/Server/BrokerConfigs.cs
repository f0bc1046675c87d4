using System.Globalization;
using Eddy.Cluster;

namespace Eddy.Kafka.Server;

/// <summary>One broker config as DescribeConfigs reports it: name, value, type, documentation and source.</summary>
public sealed record BrokerConfig(string Name, string Value, ConfigValueType Type, string Documentation, sbyte Source, bool ReadOnly = true);

/// <summary>
/// The broker configs DescribeConfigs reports for this node, with Kafka's names, read-only but for those that are
/// cluster properties (changed on the cluster-wide defaults, or for the per-node ones on this node's own resource,
/// <see cref="ClusterDefaultChanges"/>): the node's own settings, for each topic config the broker config that sets
/// its default (Kafka's synonym, e.g. log.retention.ms for retention.ms), and the per-node properties. A value the cluster's config sets is reported as DYNAMIC_DEFAULT_BROKER_CONFIG, one that differs
/// from Eddy's built-in default as STATIC_BROKER_CONFIG (set in the node's configuration), otherwise DEFAULT_CONFIG.
/// </summary>
public static class BrokerConfigs
{
    /// <summary>The broker config that sets a topic config's default (its cluster property's Kafka name; compression.type
    /// is its own).</summary>
    public static string SynonymOf(string topicConfig) => ClusterProperties.DefaultOf(topicConfig)?.KafkaName ?? topicConfig;

    /// <summary>A topic config's value where the topic sets none, and its source: the cluster's default
    /// (DYNAMIC_DEFAULT_BROKER_CONFIG), the node's setting (STATIC_BROKER_CONFIG) or the built-in default.</summary>
    public static (string Value, sbyte Source) TopicDefault(TopicConfig config, TopicDefaults defaults)
    {
        var (value, source) = defaults.Of(config.Name);
        return (value, SourceOf(source));
    }

    private static sbyte SourceOf(TopicDefaultSource source) => source switch
    {
        TopicDefaultSource.Cluster => ConfigSources.DynamicDefaultBroker,
        TopicDefaultSource.Node => ConfigSources.StaticBroker,
        _ => ConfigSources.Default,
    };

    /// <summary>The type DescribeConfigs reports for a cluster property: its topic config's where it is a default.</summary>
    private static ConfigValueType KafkaType(ClusterProperty property) => property.TopicConfig is { } topicConfig ? TopicConfigs.Get(topicConfig).Type
        : property.Type switch
        {
            ClusterPropertyType.Boolean => ConfigValueType.Boolean,
            ClusterPropertyType.Integer => ConfigValueType.Int,
            _ => ConfigValueType.String,
        };

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
            ClusterWide(table, ClusterProperties.DefaultTopicReplication, Int(table.DefaultReplicationFactor), Int(defaults.DefaultReplicationFactor), ConfigValueType.Int,
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
        var topicDefaults = table.TopicDefaults;
        foreach (var topicConfig in TopicConfigs.All)
        {
            var (value, source) = TopicDefault(topicConfig, topicDefaults);
            configs.Add(new BrokerConfig(SynonymOf(topicConfig.Name), value, topicConfig.Type,
                $"The default of the topic config {topicConfig.Name}: {topicConfig.Documentation}", source,
                ReadOnly: ClusterProperties.DefaultOf(topicConfig.Name) is null));
        }
        var config = table.Controller.View.Config;
        foreach (var property in ClusterProperties.All.Where(p => p.PerNode))
        {
            // A node's own value (DYNAMIC_BROKER_CONFIG), else the cluster's, else the property's default.
            bool own = config.TryGetValue(ClusterProperties.KeyFor(property, server.NodeId), out var ownValue) && property.Check(ownValue) is null;
            string? value = ClusterProperties.SetIn(config, property, server.NodeId);
            configs.Add(new BrokerConfig(ClusterProperties.KafkaNameOf(property), value ?? property.Default, KafkaType(property), property.Description,
                own ? ConfigSources.DynamicBroker : value is not null ? ConfigSources.DynamicDefaultBroker : ConfigSources.Default, ReadOnly: false));
        }
        configs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return configs;
    }

    /// <summary>The cluster-wide defaults (the BROKER resource named ""): the cluster properties that are set, as
    /// DYNAMIC_DEFAULT_BROKER_CONFIG.</summary>
    public static List<BrokerConfig> ClusterDefaults(TopicTable table) => [.. ClusterProperties.All
        .Where(p => ClusterProperties.SetIn(table.Controller.View.Config, p) is not null)
        .Select(p => new BrokerConfig(ClusterProperties.KafkaNameOf(p), ClusterProperties.SetIn(table.Controller.View.Config, p)!,
            KafkaType(p), p.Description, ConfigSources.DynamicDefaultBroker, ReadOnly: false))
        .OrderBy(c => c.Name, StringComparer.Ordinal)];

    /// <summary>A broker config that is a cluster property: changeable (on the cluster-wide defaults), and reported as
    /// DYNAMIC_DEFAULT_BROKER_CONFIG where the cluster sets it.</summary>
    private static BrokerConfig ClusterWide(TopicTable table, ClusterProperty property, string value, string builtIn, ConfigValueType type, string documentation)
    {
        bool set = ClusterProperties.SetIn(table.Controller.View.Config, property) is not null;
        return Setting(ClusterProperties.KafkaNameOf(property), value, builtIn, type, documentation) with
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
