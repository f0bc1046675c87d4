namespace Eddy.Kafka.Groups;

/// <summary>
/// Settings of the classic group coordinator, named after the Kafka broker configs they mirror. The defaults are
/// Kafka's; tests shorten the timeouts.
/// </summary>
public sealed class GroupCoordinatorOptions
{
    /// <summary>offsets.topic.num.partitions: how many partitions `__consumer_offsets` has. Fixed for the life of
    /// the data: changing it moves groups to other partitions, where their state is not.</summary>
    public int OffsetsPartitionCount { get; init; } = 16;

    /// <summary>group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for more
    /// members, extended by the same amount each time one arrives (never past the rebalance timeout).</summary>
    public TimeSpan InitialRebalanceDelay { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>group.min.session.timeout.ms: the shortest session a member may ask for.</summary>
    public TimeSpan MinSessionTimeout { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>group.max.session.timeout.ms: the longest session a member may ask for.</summary>
    public TimeSpan MaxSessionTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>group.max.size: members per group.</summary>
    public int MaxGroupSize { get; init; } = int.MaxValue;

    /// <summary>offset.metadata.max.bytes: the longest metadata string a commit may carry.</summary>
    public int MaxOffsetMetadataBytes { get; init; } = 4096;

    /// <summary>
    /// Whether a topic partition exists, for OffsetCommit and OffsetDelete (UNKNOWN_TOPIC_OR_PARTITION otherwise).
    /// Called on the group's coordinator shard, so it must be safe to call from any shard. Default: everything exists.
    /// </summary>
    public Func<string, int, bool> TopicPartitionExists { get; init; } = static (_, _) => true;

    /// <summary>Milliseconds since the epoch, for commit timestamps and record timestamps.</summary>
    public Func<long> WallClockMs { get; init; } = static () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
