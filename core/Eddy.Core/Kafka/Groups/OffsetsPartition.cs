using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Kafka.Groups;

/// <summary>Visits one record of a `__consumer_offsets` log during replay; a tombstone has no value.</summary>
internal delegate void OffsetsRecordVisitor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool hasValue);

/// <summary>
/// One `__consumer_offsets` partition on its coordinator's shard: the partition the integrator opened, replay of its
/// log at load, and appends of the coordinator's state changes through the partition (the one door into its log, which
/// stamps the leader epoch and wakes fetches of the topic). Each change is one uncompressed batch, appended whole
/// (durable when the log flushes every append, the default) before the change takes effect or is answered.
/// </summary>
internal sealed class OffsetsPartition
{
    /// <summary>How much replay reads per call.</summary>
    private const int ReplayReadBytes = 1 << 20;

    private readonly RecordBatchBuilder _builder = new();
    private int _inFlight;
    private TaskCompletionSource? _drained;

    public OffsetsPartition(int index, Partition partition)
    {
        Index = index;
        Partition = partition;
    }

    public int Index { get; }
    public Partition Partition { get; }

    /// <summary>False while the log is being replayed: requests for its groups get COORDINATOR_LOAD_IN_PROGRESS.</summary>
    public bool Loaded { get; set; }

    /// <summary>Appends the records as one batch; completes once the log has it (fdatasynced with the default log
    /// options; with replicas, once a majority has). NOT_COORDINATOR when the partition no longer leads.</summary>
    public async ValueTask<short> AppendAsync(IReadOnlyList<(byte[] Key, byte[]? Value)> records, long timestampMs)
    {
        // The builder is reused, so the batch is copied before the first await lets another append build its own.
        _builder.Reset(timestampMs);
        foreach (var (key, value) in records)
        {
            _builder.Add(timestampMs, key, value, valueIsNull: value is null);
        }
        byte[] batch = _builder.Finish().ToArray();
        _inFlight++;
        try
        {
            var appended = await Partition.AppendAsync(batch);
            switch (appended.ErrorCode)
            {
                case KafkaErrors.None:
                    return KafkaErrors.None;
                case KafkaErrors.NotLeaderOrFollower:
                    return KafkaErrors.NotCoordinator; // leadership moved: the client finds the new coordinator
                default:
                    // The batch has no producer id, so the producer checks have nothing to refuse: this is a bug.
                    throw new InvalidOperationException($"{Partition}: the coordinator's append was refused with error {appended.ErrorCode}");
            }
        }
        finally
        {
            if (--_inFlight == 0)
            {
                _drained?.TrySetResult();
                _drained = null;
            }
        }
    }

    /// <summary>Completes when no append is in flight (before the integrator closes the log).</summary>
    public Task DrainAsync()
    {
        if (_inFlight == 0)
        {
            return Task.CompletedTask;
        }
        _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _drained.Task;
    }

    /// <summary>Reads the whole log in order, handing every keyed record of every data batch to <paramref name="visitor"/>.</summary>
    public async ValueTask ReplayAsync(OffsetsRecordVisitor visitor)
    {
        long offset = Partition.LogStartOffset;
        while (offset < Partition.LogEndOffset)
        {
            using var read = await Partition.ReadAsync(offset, ReplayReadBytes);
            if (read.IsEmpty)
            {
                break;
            }
            Visit(read.Records, visitor);
            offset = read.NextOffset;
        }
    }

    private void Visit(ReadOnlyMemory<byte> batches, OffsetsRecordVisitor visitor)
    {
        foreach (var batch in RecordBatch.Enumerate(batches.Span))
        {
            if (batch.IsControl)
            {
                continue; // transaction markers: offsets are committed outside transactions here
            }
            using var records = RecordsPayload.Open(batch);
            var reader = records.ReadRecords();
            while (reader.TryNext(out var record))
            {
                if (record.HasKey)
                {
                    visitor(record.Key, record.Value, record.HasValue);
                }
            }
            if (reader.Malformed)
            {
                throw new LogCorruptedException($"{Partition}: offsets batch at offset {batch.BaseOffset} holds a malformed record");
            }
        }
    }
}
