namespace Eddy.Storage;

/// <summary>Which timestamp a batch keeps: the producer's (CreateTime) or the broker's at append (LogAppendTime).</summary>
public enum TimestampType
{
    CreateTime,
    LogAppendTime,
}

/// <summary>What happens to old data: delete whole segments by size and age, or keep the newest record per key.</summary>
[Flags]
public enum CleanupPolicy
{
    Delete = 1,
    Compact = 2,
}

/// <summary>
/// Per-log settings, mirroring the topic configs they come from. Defaults are Kafka's (write caching off:
/// fdatasync after every append, as acks=all needs).
/// </summary>
public sealed record LogOptions
{
    /// <summary>segment.bytes: roll when the active segment would grow past this. Default 128 MiB.</summary>
    public long SegmentBytes { get; init; } = 128L << 20;

    /// <summary>segment.ms: roll when the active segment is older than this. Default 7 days.</summary>
    public TimeSpan SegmentAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>index.interval.bytes: bytes of data between sparse index entries. Default 4 KiB.</summary>
    public int IndexIntervalBytes { get; init; } = 4096;

    /// <summary>Space reserved ahead of the write position with fallocate, in one step. Default 32 MiB.</summary>
    public long PreallocateBytes { get; init; } = 32L << 20;

    /// <summary>The largest chunk of zeros written ahead of the active segment's data (chunks grow with the data, from
    /// 64 KiB), so that appends overwrite blocks the file already has: with O_DIRECT such a write completes without a
    /// kernel worker thread and its fdatasync has no file size or extent change to write. Capped at
    /// <see cref="PreallocateBytes"/> and 1 MiB; 0 turns it off. Default 1 MiB.</summary>
    public int ZeroFillBytes { get; init; } = 1 << 20;

    /// <summary>fdatasync after every append (the default). When false, flush by <see cref="FlushBytes"/> or
    /// <see cref="FlushInterval"/>, whichever comes first (write caching).</summary>
    public bool FlushEveryAppend { get; init; } = true;

    /// <summary>With write caching: fdatasync once this many bytes are unflushed. Default 1 MiB.</summary>
    public long FlushBytes { get; init; } = 1 << 20;

    /// <summary>With write caching: fdatasync at most this long after an unflushed append. Default 100 ms.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>message.timestamp.type.</summary>
    public TimestampType TimestampType { get; init; } = TimestampType.CreateTime;

    /// <summary>cleanup.policy.</summary>
    public CleanupPolicy CleanupPolicy { get; init; } = CleanupPolicy.Delete;

    /// <summary>retention.bytes: -1 for no limit.</summary>
    public long RetentionBytes { get; init; } = -1;

    /// <summary>retention.ms: null for no limit. Default 7 days.</summary>
    public TimeSpan? RetentionTime { get; init; } = TimeSpan.FromDays(7);

    /// <summary>delete.retention.ms: how long compaction keeps tombstones. Default 1 day.</summary>
    public TimeSpan DeleteRetention { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Put appended batches in the shard's batch cache so tailing readers stay in memory. Default true.</summary>
    public bool UseBatchCache { get; init; } = true;

    /// <summary>The batch cache and read-window budget of the shard the log opens on, shared by its logs. Default
    /// null: the log makes its own, with the default sizes (a log opened alone, as by tests and tools).</summary>
    public ShardStorage? Storage { get; init; }

    /// <summary>Wall-clock milliseconds since the epoch (LogAppendTime, retention.ms, tombstone age). Injectable for
    /// tests and simulation; the monotonic shard clock measures segment age.</summary>
    public Func<long> WallClockMs { get; init; } = static () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Where segment files come from; tests wrap it to inject faults.</summary>
    public IFileLayer Files { get; init; } = DirectFileLayer.Instance;

    public static readonly LogOptions Default = new();
}
