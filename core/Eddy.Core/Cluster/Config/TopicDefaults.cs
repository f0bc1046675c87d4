using System.Collections.Frozen;
using System.Globalization;

namespace Eddy.Cluster;

/// <summary>Where a topic config's default comes from.</summary>
public enum TopicDefaultSource
{
    /// <summary>Eddy's built-in default (Kafka's).</summary>
    BuiltIn,

    /// <summary>The node's own setting (only min.insync.replicas has one).</summary>
    Node,

    /// <summary>A cluster property set in the cluster's config.</summary>
    Cluster,
}

/// <summary>
/// The value each topic config takes in a topic that sets none of its own: the cluster property that is its default
/// (<see cref="ClusterProperty.TopicConfig"/>) where the cluster's config sets it, else the node's setting where it has
/// one, else the built-in default. Kafka's topic configs fall back to the broker's log.* configs the same way, and a
/// changed cluster default reaches every topic that does not override it, without a restart. Immutable; one instance
/// per cluster config, so readers on any shard share it.
/// </summary>
public sealed class TopicDefaults
{
    private static volatile TopicDefaults? _last;

    private readonly FrozenDictionary<string, (string Value, TopicDefaultSource Source)> _values;
    private readonly IReadOnlyDictionary<string, string> _config;
    private readonly BrokerOptions _options;

    private TopicDefaults(IReadOnlyDictionary<string, string> config, BrokerOptions options)
    {
        _config = config;
        _options = options;
        _values = TopicConfigs.All.ToFrozenDictionary(c => c.Name, c => Resolve(c, config, options), StringComparer.Ordinal);
    }

    /// <summary>The defaults under <paramref name="config"/> (a cluster view's) for a node with <paramref name="options"/>.
    /// Made once per config change: the last one is kept.</summary>
    public static TopicDefaults For(IReadOnlyDictionary<string, string> config, BrokerOptions options)
    {
        var last = _last;
        if (last is not null && ReferenceEquals(last._config, config) && ReferenceEquals(last._options, options))
        {
            return last;
        }
        return _last = new TopicDefaults(config, options);
    }

    /// <summary>A topic config's default and where it comes from.</summary>
    public (string Value, TopicDefaultSource Source) Of(string topicConfig) => _values[topicConfig];

    /// <summary>The effective value of a topic config in <paramref name="topic"/>: its override, else the default.</summary>
    public string ValueIn(TopicInfo topic, string topicConfig)
        => topic.Configs.TryGetValue(topicConfig, out var value) ? value : _values[topicConfig].Value;

    public long LongIn(TopicInfo topic, string topicConfig) => long.Parse(ValueIn(topic, topicConfig), CultureInfo.InvariantCulture);

    private static (string, TopicDefaultSource) Resolve(TopicConfig topicConfig, IReadOnlyDictionary<string, string> config, BrokerOptions options)
    {
        if (ClusterProperties.DefaultOf(topicConfig.Name) is { } property && ClusterProperties.SetIn(config, property) is { } set)
        {
            return (set, TopicDefaultSource.Cluster);
        }
        if (topicConfig.Name == TopicConfigs.MinInsyncReplicas && options.MinInsyncReplicas.ToString(CultureInfo.InvariantCulture) is var node
            && node != topicConfig.Default)
        {
            return (node, TopicDefaultSource.Node);
        }
        return (topicConfig.Default, TopicDefaultSource.BuiltIn);
    }
}
