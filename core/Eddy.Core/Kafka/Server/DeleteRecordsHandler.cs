using Eddy.Cluster;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Storage;

namespace Eddy.Kafka.Server;

/// <summary>
/// DeleteRecords (key 21), v0–v2: moves each partition's log start offset forward to the offset given (-1: the high
/// watermark) and answers the new low watermark (the log start offset; one node has no replicas to wait for). As in
/// Kafka: an offset below the current start changes nothing, one above the high watermark (or below -1) is
/// OFFSET_OUT_OF_RANGE, and a topic whose cleanup.policy lacks delete is POLICY_VIOLATION. The new start offset is
/// recorded in the metadata store before the log drops anything, so it holds after a crash at any point.
/// </summary>
public sealed class DeleteRecordsHandler(Broker broker) : IKafkaApiHandler
{
    private const long HighWatermark = -1;

    public short ApiKey => DeleteRecordsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 2;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (DeleteRecordsRequest)request;
        var response = new DeleteRecordsResponse();
        var pending = new List<(DeleteRecordsResponse.DeleteRecordsPartitionResult Result, ValueTask<(short, long)> Delete)>();
        foreach (var wantedTopic in body.Topics)
        {
            var topicResult = new DeleteRecordsResponse.DeleteRecordsTopicResult { Name = wantedTopic.Name };
            response.Topics.Add(topicResult);
            broker.Topics.TryGet(wantedTopic.Name, out var topic);
            foreach (var wanted in wantedTopic.Partitions)
            {
                var result = new DeleteRecordsResponse.DeleteRecordsPartitionResult { PartitionIndex = wanted.PartitionIndex, LowWatermark = -1 };
                topicResult.Partitions.Add(result);
                if (topic is null || wanted.PartitionIndex < 0 || wanted.PartitionIndex >= topic.PartitionCount)
                {
                    result.ErrorCode = KafkaErrors.UnknownTopicOrPartition;
                    continue;
                }
                string name = topic.Name;
                int index = wanted.PartitionIndex;
                long offset = wanted.Offset;
                // Started now, awaited once each below: the partitions' shards work in parallel.
#pragma warning disable CA2012
                pending.Add((result, broker.OnPartitionAsync(name, index, p => DeleteOnOwnerAsync(p, offset), (KafkaErrors.UnknownTopicOrPartition, -1L))));
#pragma warning restore CA2012
            }
        }
        foreach (var (result, delete) in pending)
        {
            (result.ErrorCode, result.LowWatermark) = await delete;
        }
        return response;
    }

    private async ValueTask<(short Error, long LowWatermark)> DeleteOnOwnerAsync(Partition partition, long offset)
    {
        try
        {
            if ((partition.Log.Options.CleanupPolicy & CleanupPolicy.Delete) == 0)
            {
                return (KafkaErrors.PolicyViolation, -1);
            }
            long target = offset == HighWatermark ? partition.HighWatermark : offset;
            if (target < 0 || target > partition.HighWatermark)
            {
                return (KafkaErrors.OffsetOutOfRange, -1);
            }
            if (target > partition.LogStartOffset)
            {
                // Durable first: once the log drops segments, only the metadata store knows where the log starts.
                await broker.SetStartOffsetAsync(partition.Topic, partition.Index, target);
                await partition.Log.SetStartOffsetAsync(target);
            }
            return (KafkaErrors.None, partition.LogStartOffset);
        }
        catch (ObjectDisposedException)
        {
            return (KafkaErrors.UnknownTopicOrPartition, -1);
        }
        catch (StorageException)
        {
            return (KafkaErrors.KafkaStorageError, -1);
        }
    }
}
