using System.Collections.Frozen;
using System.Globalization;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// The topic configs Eddy accepts, with Kafka's names and defaults, and how they become <see cref="LogOptions"/>.
/// A name outside this table is refused (INVALID_CONFIG), never stored and ignored.
/// </summary>
public static class TopicConfigs
{
    public const string CleanupPolicy = "cleanup.policy";
    public const string RetentionMs = "retention.ms";
    public const string RetentionBytes = "retention.bytes";
    public const string SegmentBytes = "segment.bytes";
    public const string SegmentMs = "segment.ms";
    public const string MaxMessageBytes = "max.message.bytes";
    public const string MessageTimestampType = "message.timestamp.type";
    public const string DeleteRetentionMs = "delete.retention.ms";
    public const string MinInsyncReplicas = "min.insync.replicas";
    public const string CompressionType = "compression.type";

    /// <summary>Kafka's default max.message.bytes: 1 MiB plus the batch overhead.</summary>
    public const int DefaultMaxMessageBytes = 1048588;

    /// <summary>Smallest segment.bytes accepted: a segment must hold at least one page-aligned write.</summary>
    public const int MinSegmentBytes = 64 * 1024;

    public static readonly IReadOnlyList<TopicConfig> All =
    [
        new(CleanupPolicy, "delete", ConfigValueType.List, "What happens to old segments: delete, compact, or both.", ValidatePolicy),
        new(RetentionMs, "604800000", ConfigValueType.Long, "Delete closed segments older than this (ms); -1: no limit.", v => Long(v, -1, long.MaxValue)),
        new(RetentionBytes, "-1", ConfigValueType.Long, "Delete the oldest closed segments while the partition is larger than this; -1: no limit.", v => Long(v, -1, long.MaxValue)),
        new(SegmentBytes, "134217728", ConfigValueType.Int, "Roll to a new segment at this size.", v => Long(v, MinSegmentBytes, int.MaxValue)),
        new(SegmentMs, "604800000", ConfigValueType.Long, "Roll to a new segment at this age (ms).", v => Long(v, 1, long.MaxValue)),
        new(MaxMessageBytes, DefaultMaxMessageBytes.ToString(CultureInfo.InvariantCulture), ConfigValueType.Int, "Largest record batch accepted, in bytes.", v => Long(v, 0, int.MaxValue)),
        new(MessageTimestampType, "CreateTime", ConfigValueType.String, "Which timestamp a record keeps: CreateTime or LogAppendTime.",
            v => v is "CreateTime" or "LogAppendTime" ? null : "must be CreateTime or LogAppendTime"),
        new(DeleteRetentionMs, "86400000", ConfigValueType.Long, "How long compaction keeps tombstones (ms).", v => Long(v, 0, long.MaxValue)),
        new(MinInsyncReplicas, "1", ConfigValueType.Int, "Replicas that must be in sync for an acks=all produce to be taken; fewer get NOT_ENOUGH_REPLICAS.", v => Long(v, 1, int.MaxValue)),
        // Eddy stores batches as the producer compressed them; recompressing on the broker is not implemented.
        new(CompressionType, "producer", ConfigValueType.String, "Compression of stored batches; only 'producer' (keep the producer's) is supported.",
            v => v == "producer" ? null : "only 'producer' is supported: Eddy stores batches as the producer sent them"),
    ];

    private static readonly FrozenDictionary<string, TopicConfig> ByName = All.ToFrozenDictionary(c => c.Name, StringComparer.Ordinal);

    public static bool TryGet(string name, out TopicConfig config) => ByName.TryGetValue(name, out config!);

    public static TopicConfig Get(string name) => ByName[name];

    /// <summary>Null when every name is known and every value valid; otherwise the first problem, naming the config.</summary>
    public static string? Validate(IEnumerable<KeyValuePair<string, string?>> configs)
    {
        foreach (var (name, value) in configs)
        {
            if (!TryGet(name, out var config))
            {
                return $"unknown topic config '{name}'";
            }
            if (value is null)
            {
                return $"topic config '{name}' needs a value";
            }
            if (config.Validate(value) is { } problem)
            {
                return $"invalid value '{value}' for topic config '{name}': {problem}";
            }
        }
        return null;
    }

    /// <summary>The storage settings a topic's configs ask for, its defaults from <paramref name="defaults"/>. The values
    /// were validated when stored.</summary>
    public static LogOptions ToLogOptions(TopicInfo topic, TopicDefaults defaults, long preallocateBytes)
    {
        long retentionMs = defaults.LongIn(topic, RetentionMs);
        string policy = defaults.ValueIn(topic, CleanupPolicy);
        long segmentBytes = defaults.LongIn(topic, SegmentBytes);
        return new LogOptions
        {
            SegmentBytes = segmentBytes,
            SegmentAge = TimeSpan.FromMilliseconds(defaults.LongIn(topic, SegmentMs)),
            RetentionBytes = defaults.LongIn(topic, RetentionBytes),
            RetentionTime = retentionMs < 0 ? null : TimeSpan.FromMilliseconds(retentionMs),
            DeleteRetention = TimeSpan.FromMilliseconds(defaults.LongIn(topic, DeleteRetentionMs)),
            TimestampType = defaults.ValueIn(topic, MessageTimestampType) == "LogAppendTime" ? TimestampType.LogAppendTime : TimestampType.CreateTime,
            CleanupPolicy = (policy.Contains("delete", StringComparison.Ordinal) ? Storage.CleanupPolicy.Delete : 0)
                | (policy.Contains("compact", StringComparison.Ordinal) ? Storage.CleanupPolicy.Compact : 0),
            PreallocateBytes = Math.Min(preallocateBytes, segmentBytes),
        };
    }

    public static int MaxMessageBytesOf(TopicInfo topic, TopicDefaults defaults) => (int)defaults.LongIn(topic, MaxMessageBytes);

    public static int MinInsyncReplicasOf(TopicInfo topic, TopicDefaults defaults) => (int)defaults.LongIn(topic, MinInsyncReplicas);

    private static string? ValidatePolicy(string value)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries);
        foreach (var part in parts)
        {
            if (part is not ("delete" or "compact"))
            {
                return "must be delete, compact, or both (comma separated)";
            }
        }
        return null;
    }

    private static string? Long(string value, long min, long max)
        => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) && n >= min && n <= max
            ? null
            : $"must be a whole number within [{min}, {max}]";
}
