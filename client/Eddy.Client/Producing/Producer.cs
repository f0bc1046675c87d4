using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Client.Producing;

/// <summary>
/// Produces records to a cluster: each partition gathers its records into batches (up to <see cref="ProducerOptions.BatchBytes"/>,
/// or what arrived within <see cref="ProducerOptions.Linger"/>) and sends them to its leader, several in flight, in
/// order (<see cref="PartitionSender"/>). Every record is reported once through <see cref="ProducerOptions.OnDelivery"/>.
/// </summary>
public sealed class Producer : IAsyncDisposable
{
    /// <summary>What a record costs in a batch beyond its key, value and headers (length, attributes, deltas).</summary>
    private const int RecordOverhead = 24;

    // Each topic's senders by partition, made on a partition's first record: one lookup per record finds both the
    // partition count and the sender.
    private readonly Dictionary<string, PartitionSender?[]> _topics = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _room = new(0);
    private long _buffered;
    private long _outstanding;
    private long _retries;
    private TaskCompletionSource? _drained;
    // Where records without a key start: a random partition, as Kafka's sticky partitioner starts, so that short-lived
    // producers (one eddy produce each) do not all fill partition 0.
    private int _sticky = Random.Shared.Next(1 << 20);

    private Producer(KafkaClient client, ProducerOptions options, long producerId, short producerEpoch)
    {
        Client = client;
        Options = options;
        ProducerId = producerId;
        ProducerEpoch = producerEpoch;
    }

    internal KafkaClient Client { get; }
    internal ProducerOptions Options { get; }
    internal long ProducerId { get; }
    internal short ProducerEpoch { get; }

    /// <summary>A producer; an idempotent one first asks the cluster for its producer id.</summary>
    public static async Task<Producer> CreateAsync(KafkaClient client, ProducerOptions options, CancellationToken cancel = default)
    {
        if (options.Idempotent && options.Acks != -1)
        {
            throw new ArgumentException("an idempotent producer needs acks=all (-1)");
        }
        long producerId = -1;
        short epoch = -1;
        if (options.Idempotent)
        {
            var answer = await client.RetryAsync(c => client.CallAnyAsync<InitProducerIdResponse>(
                new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = -1, ProducerId = -1, ProducerEpoch = -1 }, c),
                TimeSpan.FromSeconds(30), cancel);
            KafkaException.ThrowIfError("get a producer id", answer.ErrorCode);
            (producerId, epoch) = (answer.ProducerId, answer.ProducerEpoch);
        }
        return new Producer(client, options, producerId, epoch);
    }

    /// <summary>
    /// Queues one record for <paramref name="topic"/>: to <paramref name="partition"/>, or when it is negative to the
    /// key's partition (murmur2, as Kafka's clients), or for a record without a key to the partition this producer is
    /// filling (one batch's worth at a time, as Kafka's sticky partitioner). Waits while
    /// <see cref="ProducerOptions.BufferBytes"/> are held. The outcome goes to <see cref="ProducerOptions.OnDelivery"/>
    /// with <paramref name="token"/>.
    /// </summary>
    public async ValueTask ProduceAsync(string topic, int partition, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value,
        KeyValuePair<string, byte[]?>[]? headers, long timestampMs, long token, CancellationToken cancel = default)
    {
        var senders = await SendersOfAsync(topic, cancel);
        if (partition >= senders.Length)
        {
            throw new ArgumentException($"topic {topic} has {senders.Length} partitions, so there is no partition {partition}");
        }
        if (partition < 0)
        {
            partition = key is { } k ? Partitioner.ForKey(k.Span, senders.Length) : StickyPartition(senders.Length);
        }
        int bytes = RecordOverhead + (key?.Length ?? 0) + (value?.Length ?? 0);
        foreach (var (name, headerValue) in headers ?? [])
        {
            bytes += name.Length + (headerValue?.Length ?? 0) + 4;
        }
        while (Interlocked.Read(ref _buffered) + bytes > Options.BufferBytes && Interlocked.Read(ref _buffered) > 0)
        {
            await _room.WaitAsync(TimeSpan.FromMilliseconds(50), cancel);
        }
        Interlocked.Add(ref _buffered, bytes);
        Interlocked.Increment(ref _outstanding);
        var sender = senders[partition] ?? SenderFor(topic, senders, partition);
        sender.Append(timestampMs, key, value, headers, token, bytes);
    }

    /// <summary>Sends what is queued at once and waits until every record produced so far has been reported.</summary>
    public async Task FlushAsync(CancellationToken cancel = default)
    {
        TaskCompletionSource drained;
        List<PartitionSender> senders;
        lock (_lock)
        {
            if (Interlocked.Read(ref _outstanding) == 0)
            {
                return;
            }
            drained = _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            senders = AllSenders();
        }
        // Outside the lock: a sender holds its own lock when it tells this producer that it sealed a batch.
        foreach (var sender in senders)
        {
            sender.Flush();
        }
        await drained.Task.WaitAsync(cancel);
    }

    /// <summary>Records not yet reported.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Batches sent again after an error worth retrying (a leader that moved, a broken connection, ...).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    internal void Retried() => Interlocked.Increment(ref _retries);

    /// <summary>Called by a sender once per record reported.</summary>
    internal void Delivered(long token, int partition, long offset, short error, int bytes)
    {
        Options.OnDelivery?.Invoke(token, partition, offset, error);
        Interlocked.Add(ref _buffered, -bytes);
        if (Interlocked.Decrement(ref _outstanding) == 0)
        {
            lock (_lock)
            {
                if (Interlocked.Read(ref _outstanding) == 0)
                {
                    _drained?.TrySetResult();
                    _drained = null;
                }
            }
        }
    }

    /// <summary>Called by a sender when a batch leaves the buffer: producers waiting for room look again.</summary>
    internal void RoomMade()
    {
        if (_room.CurrentCount == 0)
        {
            _room.Release();
        }
    }

    private int StickyPartition(int partitions) => Volatile.Read(ref _sticky) % partitions;

    /// <summary>Called by a sender when it closes a batch (full, or its linger passed): records without a key move on
    /// to the next partition if they were filling this one, so that they spread over the partitions a batch at a time
    /// (Kafka's sticky partitioner, KIP-480).</summary>
    internal void Sealed(int partition, int partitions)
    {
        int sticky = Volatile.Read(ref _sticky);
        if (partition == sticky % partitions)
        {
            Interlocked.CompareExchange(ref _sticky, sticky + 1, sticky);
        }
    }

    /// <summary>The topic's senders, one slot per partition; the first record for a topic asks the cluster how many
    /// partitions it has (creating it where the cluster creates topics on first use).</summary>
    private async ValueTask<PartitionSender?[]> SendersOfAsync(string topic, CancellationToken cancel)
    {
        lock (_lock)
        {
            if (_topics.TryGetValue(topic, out var known))
            {
                return known;
            }
        }
        var metadata = await Client.RetryAsync(async c =>
        {
            var m = await Client.MetadataForProducingAsync([topic], c);
            m.Topic(topic);
            return m;
        }, TimeSpan.FromSeconds(10), cancel);
        int count = metadata.Topic(topic).Partitions.Count;
        lock (_lock)
        {
            return _topics.TryGetValue(topic, out var raced) ? raced : _topics[topic] = new PartitionSender?[count];
        }
    }

    private PartitionSender SenderFor(string topic, PartitionSender?[] senders, int partition)
    {
        lock (_lock)
        {
            return senders[partition] ??= new PartitionSender(this, topic, partition, senders.Length);
        }
    }

    /// <summary>Every sender made so far (under the lock).</summary>
    private List<PartitionSender> AllSenders() => [.. _topics.Values.SelectMany(s => s).OfType<PartitionSender>()];

    /// <summary>Flushes, then stops every sender.</summary>
    public async ValueTask DisposeAsync()
    {
        await FlushAsync();
        List<PartitionSender> senders;
        lock (_lock)
        {
            senders = AllSenders();
        }
        foreach (var sender in senders)
        {
            await sender.DisposeAsync();
        }
    }
}
