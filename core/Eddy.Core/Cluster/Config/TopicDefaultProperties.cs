namespace Eddy.Cluster;

/// <summary>
/// The cluster properties that are topic configs' defaults (<see cref="TopicDefaults"/>), with Redpanda's names and
/// Kafka's broker config names (the synonyms DescribeConfigs reports for each topic config). compression.type has
/// none: 'producer' is its only value.
/// </summary>
public static class TopicDefaultProperties
{
    public static readonly ClusterProperty RetentionMs = new("log_retention_ms", ClusterPropertyType.Integer, "604800000",
        "delete closed segments older than this in a topic that sets no retention.ms; -1: no limit",
        Unit: "ms", Minimum: -1, KafkaName: "log.retention.ms", TopicConfig: TopicConfigs.RetentionMs);

    public static readonly ClusterProperty RetentionBytes = new("retention_bytes", ClusterPropertyType.Integer, "-1",
        "delete a partition's oldest closed segments while it is larger than this, in a topic that sets no retention.bytes; -1: no limit",
        Unit: "bytes", Minimum: -1, KafkaName: "log.retention.bytes", TopicConfig: TopicConfigs.RetentionBytes);

    public static readonly ClusterProperty SegmentBytes = new("log_segment_size", ClusterPropertyType.Integer, "134217728",
        "roll to a new segment at this size in a topic that sets no segment.bytes",
        Unit: "bytes", Minimum: TopicConfigs.MinSegmentBytes, Maximum: int.MaxValue, KafkaName: "log.segment.bytes", TopicConfig: TopicConfigs.SegmentBytes);

    public static readonly ClusterProperty SegmentMs = new("log_segment_ms", ClusterPropertyType.Integer, "604800000",
        "roll to a new segment at this age in a topic that sets no segment.ms",
        Unit: "ms", Minimum: 1, KafkaName: "log.roll.ms", TopicConfig: TopicConfigs.SegmentMs);

    public static readonly ClusterProperty CleanupPolicy = new("log_cleanup_policy", ClusterPropertyType.String, "delete",
        "what happens to old segments in a topic that sets no cleanup.policy: delete, compact, or both (delete,compact)",
        KafkaName: "log.cleanup.policy", TopicConfig: TopicConfigs.CleanupPolicy,
        Validate: value => TopicConfigs.Get(TopicConfigs.CleanupPolicy).Validate(value));

    public static readonly ClusterProperty MaxMessageBytes = new("kafka_batch_max_bytes", ClusterPropertyType.Integer, "1048588",
        "largest record batch a topic that sets no max.message.bytes accepts",
        Unit: "bytes", Minimum: 0, Maximum: int.MaxValue, KafkaName: "message.max.bytes", TopicConfig: TopicConfigs.MaxMessageBytes);

    public static readonly ClusterProperty TimestampType = new("log_message_timestamp_type", ClusterPropertyType.String, "CreateTime",
        "which timestamp records keep in a topic that sets no message.timestamp.type",
        Choices: ["CreateTime", "LogAppendTime"], KafkaName: "log.message.timestamp.type", TopicConfig: TopicConfigs.MessageTimestampType);

    public static readonly ClusterProperty DeleteRetentionMs = new("delete_retention_ms", ClusterPropertyType.Integer, "86400000",
        "how long compaction keeps tombstones in a topic that sets no delete.retention.ms",
        Unit: "ms", Minimum: 0, KafkaName: "log.cleaner.delete.retention.ms", TopicConfig: TopicConfigs.DeleteRetentionMs);

    public static readonly ClusterProperty MinInsyncReplicas = new("min_insync_replicas", ClusterPropertyType.Integer, "1",
        "replicas that must be in sync for an acks=all produce in a topic that sets no min.insync.replicas; wins over each node's min_insync_replicas",
        Minimum: 1, Maximum: int.MaxValue, KafkaName: "min.insync.replicas", TopicConfig: TopicConfigs.MinInsyncReplicas);

    public static readonly IReadOnlyList<ClusterProperty> All =
        [RetentionMs, RetentionBytes, SegmentBytes, SegmentMs, CleanupPolicy, MaxMessageBytes, TimestampType, DeleteRetentionMs, MinInsyncReplicas];
}
