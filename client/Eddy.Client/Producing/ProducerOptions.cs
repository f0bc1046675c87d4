using Eddy.Records;

namespace Eddy.Client.Producing;

/// <summary>How a <see cref="Producer"/> batches and acknowledges; the defaults are librdkafka's where it has one.</summary>
public sealed record ProducerOptions
{
    /// <summary>-1 (all: the partition's in-sync replicas have it), 1 (the leader has it) or 0 (no answer). Default: -1.</summary>
    public short Acks { get; init; } = -1;

    /// <summary>How long a batch waits for more records before it is sent. Default: 5 ms.</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The most bytes of records in one batch. Default: 1 MiB (the broker's default batch limit).</summary>
    public int BatchBytes { get; init; } = 1 << 20;

    /// <summary>Batches of one partition sent and not yet answered. Default: 5 (the most an idempotent producer may have).</summary>
    public int MaxInFlight { get; init; } = 5;

    /// <summary>Bytes of records held (queued or in flight) before <see cref="Producer.ProduceAsync"/> waits. Default: 64 MiB.</summary>
    public long BufferBytes { get; init; } = 64L << 20;

    /// <summary>Whether batches carry a producer id and sequences, so that a batch sent again after a failover is
    /// written once. Default: true (as in Kafka's clients since 3.0); needs acks=-1.</summary>
    public bool Idempotent { get; init; } = true;

    /// <summary>The codec of each batch. Default: none.</summary>
    public CompressionType Compression { get; init; } = CompressionType.None;

    /// <summary>How long a record may take from <see cref="Producer.ProduceAsync"/> to its acknowledgement, retries
    /// included, before it is reported failed. Default: 120 s (Kafka's delivery.timeout.ms).</summary>
    public TimeSpan DeliveryTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Called once per record with the token it was produced with: where it landed, or the error that failed it
    /// (offset -1). Called on the producer's own tasks, in order within a partition.</summary>
    public DeliveryHandler? OnDelivery { get; init; }
}

/// <summary>The outcome of one record: <paramref name="error"/> is 0 when it was acknowledged at
/// <paramref name="offset"/> (-1 under acks=0, or when a retry found it already written).</summary>
public delegate void DeliveryHandler(long token, int partition, long offset, short error);
