using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Records;

namespace Eddy.Kafka.Server;

/// <summary>
/// ListOffsets (key 2), v1–v6: the earliest offset (-2), the latest (-1: the high watermark, which is also the
/// last stable offset without transactions), or the first offset whose record timestamp is at or after a time.
/// </summary>
public sealed class ListOffsetsHandler(PartitionRouter router) : IKafkaApiHandler
{
    private const long Latest = -1;
    private const long Earliest = -2;
    private static readonly Func<short, string?, Found> Failed = static (error, _) => new Found(error, -1, -1, -1);

    public short ApiKey => ListOffsetsRequest.ApiKeyValue;
    public short MinVersion => 1;
    public short MaxVersion => 6;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (ListOffsetsRequest)request;
        var response = new ListOffsetsResponse();
        var lookups = router.FanOut(Failed);
        var topics = router.Topics;
        foreach (var wantedTopic in body.Topics)
        {
            var topicResponse = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = wantedTopic.Name };
            response.Topics.Add(topicResponse);
            topics.TryGet(wantedTopic.Name, out var topic);
            foreach (var wanted in wantedTopic.Partitions)
            {
                topicResponse.Partitions.Add(new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = wanted.PartitionIndex });
                long timestamp = wanted.Timestamp;
                int currentEpoch = wanted.CurrentLeaderEpoch;
                lookups.Add(topic, wanted.PartitionIndex, p => LookupOnOwnerAsync(p, currentEpoch, timestamp));
            }
        }
        var found = await lookups.RunAsync();
        int at = 0;
        foreach (var topicResponse in response.Topics)
        {
            foreach (var result in topicResponse.Partitions)
            {
                var (error, offset, time, epoch) = found[at++];
                result.ErrorCode = error;
                result.Offset = offset;
                result.Timestamp = time;
                // The epoch field exists from v4; the codec refuses a value it cannot encode.
                result.LeaderEpoch = context.Header.RequestApiVersion >= 4 ? epoch : -1;
            }
        }
        return response;
    }

    private static ValueTask<Found> LookupOnOwnerAsync(Partition partition, int currentEpoch, long timestamp)
    {
        short fenced = partition.CheckLeaderEpoch(currentEpoch);
        if (fenced != KafkaErrors.None)
        {
            return new ValueTask<Found>(Failed(fenced, null));
        }
        // As Kafka: the latest offset carries the current epoch, the earliest the epoch of the batch it is in.
        return timestamp switch
        {
            Latest => new ValueTask<Found>(new Found(KafkaErrors.None, partition.HighWatermark, -1, partition.LeaderEpoch)),
            Earliest => new ValueTask<Found>(new Found(KafkaErrors.None, partition.LogStartOffset, -1, partition.EpochOf(partition.LogStartOffset))),
            < 0 => new ValueTask<Found>(Failed(KafkaErrors.InvalidRequest, null)),
            _ => FindByTimestampAsync(partition, timestamp),
        };
    }

    /// <summary>The index finds the first batch whose max timestamp reaches the time; the record is found inside it.</summary>
    private static async ValueTask<Found> FindByTimestampAsync(Partition partition, long timestamp)
    {
        long batchOffset = await partition.FindOffsetByTimestampAsync(timestamp);
        if (batchOffset < 0 || batchOffset >= partition.HighWatermark)
        {
            return new Found(KafkaErrors.None, -1, -1, -1); // no such record: Kafka answers offset -1
        }
        using var read = await partition.ReadAsync(batchOffset, 1);
        foreach (var batch in RecordBatch.Enumerate(read.Records.Span))
        {
            if (batch.MaxTimestamp < timestamp)
            {
                continue;
            }
            if (batch.IsLogAppendTime)
            {
                return new Found(KafkaErrors.None, Math.Max(batch.BaseOffset, partition.LogStartOffset), batch.MaxTimestamp, batch.PartitionLeaderEpoch);
            }
            using var records = RecordsPayload.Open(batch);
            var reader = records.ReadRecords();
            while (reader.TryNext(out var record))
            {
                if (record.Timestamp >= timestamp && record.Offset >= partition.LogStartOffset)
                {
                    return new Found(KafkaErrors.None, record.Offset, record.Timestamp, batch.PartitionLeaderEpoch);
                }
            }
        }
        return new Found(KafkaErrors.None, -1, -1, -1);
    }

    private readonly record struct Found(short Error, long Offset, long Timestamp, int LeaderEpoch);
}
