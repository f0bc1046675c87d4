using Eddy.Cluster;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Kafka.Server;

/// <summary>
/// ListOffsets (key 2), v1–v6: the earliest offset (-2), the latest (-1: the high watermark, which is also the
/// last stable offset without transactions), or the first offset whose record timestamp is at or after a time.
/// </summary>
public sealed class ListOffsetsHandler(Broker broker) : IKafkaApiHandler
{
    private const long Latest = -1;
    private const long Earliest = -2;

    public short ApiKey => ListOffsetsRequest.ApiKeyValue;
    public short MinVersion => 1;
    public short MaxVersion => 6;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (ListOffsetsRequest)request;
        var response = new ListOffsetsResponse();
        var pending = new List<(ListOffsetsResponse.ListOffsetsPartitionResponse Result, ValueTask<(short, long, long)> Lookup)>();
        foreach (var wantedTopic in body.Topics)
        {
            var topicResponse = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = wantedTopic.Name };
            response.Topics.Add(topicResponse);
            broker.Topics.TryGet(wantedTopic.Name, out var topic);
            foreach (var wanted in wantedTopic.Partitions)
            {
                var result = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = wanted.PartitionIndex };
                topicResponse.Partitions.Add(result);
                if (topic is null || wanted.PartitionIndex < 0 || wanted.PartitionIndex >= topic.PartitionCount)
                {
                    result.ErrorCode = KafkaErrors.UnknownTopicOrPartition;
                    continue;
                }
                short epochError = LeaderEpochCheck.Of(wanted.CurrentLeaderEpoch);
                if (epochError != KafkaErrors.None)
                {
                    result.ErrorCode = epochError;
                    continue;
                }
                string name = topic.Name;
                int index = wanted.PartitionIndex;
                long timestamp = wanted.Timestamp;
                // Started now, awaited once each below: the partitions' shards work in parallel.
#pragma warning disable CA2012
                pending.Add((result, broker.OnPartitionAsync(name, index, p => LookupOnOwnerAsync(p, timestamp), (KafkaErrors.UnknownTopicOrPartition, -1L, -1L))));
#pragma warning restore CA2012
            }
        }
        foreach (var (result, lookup) in pending)
        {
            var (error, offset, timestamp) = await lookup;
            result.ErrorCode = error;
            result.Offset = offset;
            result.Timestamp = timestamp;
            // The epoch field exists from v4; the codec refuses a value it cannot encode.
            result.LeaderEpoch = error == KafkaErrors.None && context.Header.RequestApiVersion >= 4 ? 0 : -1;
        }
        return response;
    }

    private async ValueTask<(short Error, long Offset, long Timestamp)> LookupOnOwnerAsync(Partition partition, long timestamp)
    {
        try
        {
            switch (timestamp)
            {
                case Latest:
                    return (KafkaErrors.None, partition.HighWatermark, -1);
                case Earliest:
                    return (KafkaErrors.None, partition.LogStartOffset, -1);
                case < 0:
                    return (KafkaErrors.InvalidRequest, -1, -1);
                default:
                    return await FindByTimestampAsync(partition, timestamp);
            }
        }
        catch (ObjectDisposedException)
        {
            return (KafkaErrors.UnknownTopicOrPartition, -1, -1);
        }
        catch (StorageException)
        {
            return (KafkaErrors.KafkaStorageError, -1, -1);
        }
    }

    /// <summary>The index finds the first batch whose max timestamp reaches the time; the record is found inside it.</summary>
    private static async ValueTask<(short, long, long)> FindByTimestampAsync(Partition partition, long timestamp)
    {
        long batchOffset = await partition.Log.FindOffsetByTimestampAsync(timestamp);
        if (batchOffset < 0 || batchOffset >= partition.HighWatermark)
        {
            return (KafkaErrors.None, -1, -1); // no such record: Kafka answers offset -1
        }
        using var read = await partition.Log.ReadAsync(batchOffset, 1);
        foreach (var batch in RecordBatch.Enumerate(read.Records.Span))
        {
            if (batch.MaxTimestamp < timestamp)
            {
                continue;
            }
            if (batch.IsLogAppendTime)
            {
                return (KafkaErrors.None, Math.Max(batch.BaseOffset, partition.LogStartOffset), batch.MaxTimestamp);
            }
            using var records = RecordsPayload.Open(batch);
            var reader = records.ReadRecords();
            while (reader.TryNext(out var record))
            {
                if (record.Timestamp >= timestamp && record.Offset >= partition.LogStartOffset)
                {
                    return (KafkaErrors.None, record.Offset, record.Timestamp);
                }
            }
        }
        return (KafkaErrors.None, -1, -1);
    }
}
