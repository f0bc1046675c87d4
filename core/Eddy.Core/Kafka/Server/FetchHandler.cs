using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Records;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Kafka.Server;

/// <summary>
/// Fetch (key 1), v4–v12, for consumers. Every partition is read on its owner shard in parallel, up to the high
/// watermark, and the batches go out as stored (the response points into the reads; the connection releases them
/// once written). With fewer than min.bytes ready it long-polls: it waits for an append on any of its partitions
/// or for max.wait.ms, then reads again. Fetch sessions (KIP-227) are declined: the response's session id is 0, so
/// clients send full fetches.
/// </summary>
public sealed class FetchHandler(PartitionRouter router) : IKafkaApiHandler
{
    private static readonly Func<short, string?, PartitionRead> FailedRead = static (error, _) => PartitionRead.Failed(error);
    private static readonly Func<short, string?, bool> NotRegistered = static (_, _) => false;
    private const short FetchSessionIdNotFound = 70;

    public short ApiKey => FetchRequest.ApiKeyValue;
    public short MinVersion => 4;
    public short MaxVersion => 12;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (FetchRequest)request;
        if (body.SessionId != 0)
        {
            return new FetchResponse { ErrorCode = FetchSessionIdNotFound, SessionId = 0 };
        }
        var shard = Shard.Current!;
        long deadline = shard.Clock.NowNanos + Math.Max(0, body.MaxWaitMs) * 1_000_000L;
        while (true)
        {
            var reads = await ReadAllAsync(body);
            bool done = body.MaxWaitMs <= 0 || shard.Clock.NowNanos >= deadline || reads.Bytes >= body.MinBytes || reads.AnyError;
            if (done)
            {
                return Assemble(body, reads, context.Scope);
            }
            Release(reads);
            var waiter = new FetchWaiter(shard);
            await RegisterAsync(body, reads, waiter);
            await waiter.WaitAsync(deadline);
        }
    }

    private async ValueTask<Reads> ReadAllAsync(FetchRequest body)
    {
        var reads = router.FanOut(FailedRead);
        var topics = router.Topics;
        foreach (var fetchTopic in body.Topics)
        {
            topics.TryGet(fetchTopic.Topic, out var topic);
            foreach (var fetchPartition in fetchTopic.Partitions)
            {
                int currentEpoch = fetchPartition.CurrentLeaderEpoch;
                long offset = fetchPartition.FetchOffset;
                int maxBytes = Math.Max(0, Math.Min(fetchPartition.PartitionMaxBytes, body.MaxBytes));
                reads.Add(topic, fetchPartition.Partition, p => ReadOnOwnerAsync(p, currentEpoch, offset, maxBytes));
            }
        }
        var results = await reads.RunAsync();
        long bytes = 0;
        bool anyError = false;
        foreach (var result in results)
        {
            bytes += result.Read.Records.Length;
            anyError |= result.Error != KafkaErrors.None;
        }
        return new Reads(results, bytes, anyError);
    }

    private static async ValueTask<PartitionRead> ReadOnOwnerAsync(Partition partition, int currentEpoch, long offset, int maxBytes)
    {
        short fenced = partition.CheckLeaderEpoch(currentEpoch);
        if (fenced != KafkaErrors.None)
        {
            return PartitionRead.Failed(fenced);
        }
        long highWatermark = partition.HighWatermark;
        if (offset < partition.LogStartOffset || offset > partition.LogEndOffset)
        {
            return new PartitionRead(KafkaErrors.OffsetOutOfRange, highWatermark, partition.LogStartOffset, default, null);
        }
        if (offset >= highWatermark || maxBytes == 0)
        {
            return new PartitionRead(KafkaErrors.None, highWatermark, partition.LogStartOffset, default, null);
        }
        LogRead read;
        for (int reads = 1; ; reads++)
        {
            read = await partition.ReadAsync(offset, maxBytes);
            if (read.NextOffset > highWatermark)
            {
                read = TrimToHighWatermark(read, highWatermark);
            }
            var visible = ClientBatches.Visible(read, out long next);
            if (!visible.IsEmpty)
            {
                read = visible;
                break;
            }
            if (read.IsEmpty || next >= highWatermark || reads == ClientBatches.MaxReadsPastHidden)
            {
                break; // hidden batches only: returned as they are, so the client moves past them
            }
            read.Dispose();
            offset = next;
        }
        partition.CountFetched(read.Records.Length);
        return new PartitionRead(KafkaErrors.None, highWatermark, partition.LogStartOffset, read, Shard.Current);
    }

    /// <summary>Drops whole batches at or past the high watermark (only written, not yet durable).</summary>
    private static LogRead TrimToHighWatermark(LogRead read, long highWatermark)
    {
        int keep = 0;
        long next = read.FirstOffset;
        foreach (var batch in RecordBatch.Enumerate(read.Records.Span))
        {
            if (batch.LastOffset >= highWatermark)
            {
                break;
            }
            keep += batch.TotalSize;
            next = batch.LastOffset + 1;
        }
        return read.Take(keep, next);
    }

    /// <summary>Registers the waiter with every partition read, on their shards at once. It wakes when a partition's
    /// high watermark moves past the one its read saw: comparing with the fetch offset instead would wake at once
    /// whenever some data is there but less than min.bytes, and spin until max.wait.ms.</summary>
    private async ValueTask RegisterAsync(FetchRequest body, Reads reads, FetchWaiter waiter)
    {
        var registrations = router.FanOut(NotRegistered);
        var topics = router.Topics;
        int i = 0;
        foreach (var fetchTopic in body.Topics)
        {
            topics.TryGet(fetchTopic.Topic, out var topic);
            foreach (var fetchPartition in fetchTopic.Partitions)
            {
                var read = reads.Results[i++];
                if (read.Error != KafkaErrors.None)
                {
                    continue;
                }
                long seen = read.HighWatermark;
                registrations.Add(topic, fetchPartition.Partition, p =>
                {
                    if (p.HighWatermark > seen)
                    {
                        return new ValueTask<bool>(false); // moved since we read: look again now
                    }
                    p.AddWaiter(waiter);
                    return new ValueTask<bool>(true);
                });
            }
        }
        foreach (bool registered in await registrations.RunAsync())
        {
            if (!registered)
            {
                waiter.OnAppend(); // moved, or went away, since we read
                break;
            }
        }
    }

    /// <summary>Builds the response in request order within fetch.max.bytes: the first non-empty partition always
    /// goes in whole (KIP-74), later ones only while they fit; reads left out are released.</summary>
    private static FetchResponse Assemble(FetchRequest body, Reads reads, ResponseScope scope)
    {
        var response = new FetchResponse { SessionId = 0 };
        long budget = body.MaxBytes;
        bool first = true;
        int at = 0;
        foreach (var fetchTopic in body.Topics)
        {
            var topicResponse = new FetchResponse.FetchableTopicResponse { Topic = fetchTopic.Topic, TopicId = fetchTopic.TopicId };
            response.Responses.Add(topicResponse);
            foreach (var fetchPartition in fetchTopic.Partitions)
            {
                var read = reads.Results[at++];
                var data = new FetchResponse.PartitionData
                {
                    PartitionIndex = fetchPartition.Partition,
                    ErrorCode = read.Error,
                    HighWatermark = read.HighWatermark,
                    LastStableOffset = read.HighWatermark,
                    LogStartOffset = read.LogStartOffset,
                    Records = ReadOnlyMemory<byte>.Empty,
                };
                topicResponse.Partitions.Add(data);
                int length = read.Read.Records.Length;
                if (length > 0 && (first || length <= budget))
                {
                    data.Records = read.Read.Records;
                    budget -= length;
                    first = false;
                }
                if (read.Owner is not null)
                {
                    // Included or not, the read's memory goes back to its shard once the response is written.
                    scope.Defer(read.Owner, DisposeRead, new LogReadBox(read.Read));
                }
            }
        }
        return response;
    }

    private static void Release(Reads reads)
    {
        foreach (var read in reads.Results)
        {
            if (read.Owner is { } owner)
            {
                ResponseScope.RunOn(owner, DisposeRead, new LogReadBox(read.Read));
            }
        }
    }

    private static readonly Action<object?> DisposeRead = static state => ((LogReadBox)state!).Read.Dispose();

    private sealed class LogReadBox(LogRead read)
    {
        public LogRead Read { get; } = read;
    }

    private readonly record struct Reads(PartitionRead[] Results, long Bytes, bool AnyError);

    /// <summary>One partition's answer; <see cref="Owner"/> is the shard whose memory <see cref="Read"/> borrows.</summary>
    private readonly record struct PartitionRead(short Error, long HighWatermark, long LogStartOffset, LogRead Read, Shard? Owner)
    {
        public static PartitionRead Failed(short error) => new(error, -1, -1, default, null);
    }
}
