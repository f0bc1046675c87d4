using System.Collections.Frozen;
using System.Globalization;
using Eddy.Observability;

namespace Eddy.Cluster;

/// <summary>
/// The table of cluster properties. A property set in the cluster's config (<see cref="ClusterView.Config"/>) wins over
/// the node setting of the same thing (eddy.yaml, EDDY_*, flags); one never set leaves each node to its own setting,
/// whose default is the property's. docs/configuration.md's cluster table is printed from this one; a test keeps the
/// two in step.
/// </summary>
public static class ClusterProperties
{
    /// <summary>Names are short; values bounded so that a config stays small in every snapshot.</summary>
    public const int MaxNameBytes = 128;
    public const int MaxValueBytes = 1024;

    /// <summary>Properties a cluster's config may hold at once (known ones, and unknown ones a newer node set).</summary>
    public const int MaxEntries = 1024;

    public static readonly ClusterProperty AutoCreateTopics = new("auto_create_topics_enabled", ClusterPropertyType.Boolean, "true",
        "create a topic when a client asks for one that does not exist (Kafka's auto.create.topics.enable); wins over each node's auto_create_topics",
        KafkaName: "auto.create.topics.enable");

    public static readonly ClusterProperty DefaultTopicPartitions = new("default_topic_partitions", ClusterPropertyType.Integer, "1",
        "partitions of an automatically created topic, and of a CreateTopics that asks for -1 (Kafka's num.partitions); wins over each node's default_partitions",
        Minimum: 1, Maximum: 10_000, KafkaName: "num.partitions");

    public static readonly ClusterProperty LogLevelProperty = new("log_level", ClusterPropertyType.String, "info",
        "least severe log level every node writes; wins over each node's log_level",
        Choices: ["trace", "debug", "info", "warn", "error"], PerNode: true);

    public static readonly ClusterProperty SubsystemLogLevels = new("log_level_subsystems", ClusterPropertyType.String, "",
        "log levels of single subsystems over log_level, as subsystem=level pairs separated by commas (rpc=debug,raft=warn)",
        Validate: value => ParseSubsystemLevels(value, out _), PerNode: true);

    public static readonly ClusterProperty Roles = new("roles", ClusterPropertyType.String, "kafka",
        "the services a node runs for clients, separated by commas: kafka (the Kafka API); empty runs none, and the node "
        + "still keeps its replicas and takes part in the controller; the admin API always runs",
        Validate: value => NodeRoles.Parse(value, out _), PerNode: true);

    public static readonly ClusterProperty DefaultTopicReplication = new("default_topic_replications", ClusterPropertyType.Integer, "1",
        "replication factor of an automatically created topic, and of a CreateTopics that asks for -1 (Kafka's default.replication.factor)",
        Minimum: 1, Maximum: Raft.RaftOptions.MaxMembers, KafkaName: "default.replication.factor");

    public static readonly IReadOnlyList<ClusterProperty> All =
    [
        AutoCreateTopics, DefaultTopicPartitions, DefaultTopicReplication, .. TopicDefaultProperties.All, LogLevelProperty, SubsystemLogLevels, Roles,
    ];

    /// <summary>Between a per-node property's name and the node id in the key of that node's own value.</summary>
    public const char NodeSeparator = '@';

    /// <summary>The config key of node <paramref name="nodeId"/>'s own value of <paramref name="property"/>.</summary>
    public static string KeyFor(ClusterProperty property, int nodeId)
        => string.Create(CultureInfo.InvariantCulture, $"{property.Name}{NodeSeparator}{nodeId}");

    /// <summary>Reads a key of the cluster's config: a property's name, or <c>NAME@NODE_ID</c> for one node's own value
    /// of a per-node property (<paramref name="nodeId"/> 0 for the cluster's). Returns why it is no key, or null.</summary>
    public static string? ParseKey(string key, out ClusterProperty property, out int nodeId)
    {
        nodeId = 0;
        int at = key.IndexOf(NodeSeparator, StringComparison.Ordinal);
        if (!TryGet(at < 0 ? key : key[..at], out property))
        {
            return "no such cluster property";
        }
        if (at < 0)
        {
            return null;
        }
        if (!property.PerNode)
        {
            return $"{property.Name} is the same on every node: it takes no node's own value";
        }
        return int.TryParse(key.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out nodeId) && nodeId > 0
            ? null
            : $"'{key[(at + 1)..]}' is not a node id";
    }

    /// <summary>Reads <c>subsystem=level,...</c>; returns why it cannot, or null.</summary>
    public static string? ParseSubsystemLevels(string value, out FrozenDictionary<string, LogLevel> levels)
    {
        levels = FrozenDictionary<string, LogLevel>.Empty;
        var parsed = new Dictionary<string, LogLevel>(StringComparer.Ordinal);
        foreach (string pair in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            string subsystem = equals > 0 ? pair[..equals].Trim() : "";
            if (subsystem.Length == 0 || subsystem.Any(c => !char.IsAsciiLetterLower(c) && c != '-' && c != '_'))
            {
                return $"'{pair}' is not subsystem=level";
            }
            try
            {
                parsed[subsystem] = Log.ParseLevel(pair[(equals + 1)..]);
            }
            catch (ArgumentException e)
            {
                return $"'{pair}': {e.Message}";
            }
        }
        levels = parsed.ToFrozenDictionary(StringComparer.Ordinal);
        return null;
    }

    private static readonly FrozenDictionary<string, ClusterProperty> ByName = All.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, ClusterProperty> ByKafkaName = All.ToFrozenDictionary(KafkaNameOf, StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, ClusterProperty> ByTopicConfig = All.Where(p => p.TopicConfig is not null)
        .ToFrozenDictionary(p => p.TopicConfig!, StringComparer.Ordinal);

    public static bool TryGet(string name, out ClusterProperty property) => ByName.TryGetValue(name, out property!);

    /// <summary>The property that is topic config <paramref name="topicConfig"/>'s default, or null.</summary>
    public static ClusterProperty? DefaultOf(string topicConfig) => ByTopicConfig.GetValueOrDefault(topicConfig);

    /// <summary>The broker config Kafka's clients know a property as: its Kafka name, or its own where Kafka has none
    /// (roles, log_level).</summary>
    public static string KafkaNameOf(ClusterProperty property) => property.KafkaName ?? property.Name;

    /// <summary>The property Kafka's broker configs call <paramref name="kafkaName"/> (<see cref="KafkaNameOf"/>), if there is one.</summary>
    public static bool TryGetByKafkaName(string kafkaName, out ClusterProperty property) => ByKafkaName.TryGetValue(kafkaName, out property!);

    /// <summary>The value <paramref name="config"/> sets for <paramref name="property"/>, or null when it sets none.</summary>
    public static string? SetIn(IReadOnlyDictionary<string, string> config, ClusterProperty property)
        => config.TryGetValue(property.Name, out var value) && property.Check(value) is null ? value : null;

    /// <summary>The value <paramref name="config"/> sets for <paramref name="property"/> on node
    /// <paramref name="nodeId"/>: the node's own where the property is per node and it has one, else the cluster's.</summary>
    public static string? SetIn(IReadOnlyDictionary<string, string> config, ClusterProperty property, int nodeId)
        => property.PerNode && config.TryGetValue(KeyFor(property, nodeId), out var own) && property.Check(own) is null ? own : SetIn(config, property);

    /// <summary>docs/configuration.md's table of cluster properties.</summary>
    public static string MarkdownTable()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("| property | type | default | bounds | restart | per node | Kafka broker config | description |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var p in All)
        {
            string bounds = p.Choices is { } choices ? string.Join(", ", choices)
                : p.Minimum is not null || p.Maximum is not null ? $"{p.Minimum}..{p.Maximum}{(p.Unit is null ? "" : " " + p.Unit)}" : "";
            text.AppendLine($"| `{p.Name}` | {p.Type.ToString().ToLowerInvariant()} | {p.Default} | {bounds} | {(p.NeedsRestart ? "yes" : "no")} | {(p.PerNode ? "yes" : "no")} | `{KafkaNameOf(p)}` | {p.Description} |");
        }
        return text.ToString();
    }

    /// <summary>Applies what node <paramref name="nodeId"/> does itself when the config changes: the log levels (the
    /// others are read where they are used). <paramref name="nodeLogLevel"/> is the node's own setting, which an unset
    /// property leaves.</summary>
    public static void ApplyToNode(IReadOnlyDictionary<string, string> config, LogLevel nodeLogLevel, int nodeId)
    {
        Log.MinimumLevel = SetIn(config, LogLevelProperty, nodeId) is { } level ? Log.ParseLevel(level) : nodeLogLevel;
        ParseSubsystemLevels(SetIn(config, SubsystemLogLevels, nodeId) ?? "", out var levels);
        Log.SubsystemLevels = levels;
    }
}
