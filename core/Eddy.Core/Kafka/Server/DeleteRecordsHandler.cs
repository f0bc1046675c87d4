using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Storage;

namespace Eddy.Kafka.Server;

/// <summary>
/// DeleteRecords (key 21), v0–v2: moves each partition's log start offset forward to the offset given (-1: the high
/// watermark) and answers the new low watermark (the leader's log start offset). As in Kafka: an offset below the
/// current start changes nothing, one above the high watermark (or below -1) is OFFSET_OUT_OF_RANGE, and a topic whose
/// cleanup.policy lacks delete is POLICY_VIOLATION. On one replica the new start offset is recorded in the metadata
/// store before the log drops anything, so it holds after a crash at any point; a replicated partition's leader
/// answers once its Raft group committed the new start (a majority holds it, and every replica applies it) and it
/// applied it itself.
/// </summary>
public sealed class DeleteRecordsHandler(PartitionRouter router) : IKafkaApiHandler
{
    private const long HighWatermark = -1;
    private static readonly Func<short, string?, (short Error, long LowWatermark)> Failed = static (error, _) => (error, -1);

    public short ApiKey => DeleteRecordsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 2;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (DeleteRecordsRequest)request;
        var response = new DeleteRecordsResponse();
        var deletes = router.FanOut(Failed);
        var topics = router.Topics;
        foreach (var wantedTopic in body.Topics)
        {
            var topicResult = new DeleteRecordsResponse.DeleteRecordsTopicResult { Name = wantedTopic.Name };
            response.Topics.Add(topicResult);
            topics.TryGet(wantedTopic.Name, out var topic);
            foreach (var wanted in wantedTopic.Partitions)
            {
                topicResult.Partitions.Add(new DeleteRecordsResponse.DeleteRecordsPartitionResult { PartitionIndex = wanted.PartitionIndex });
                long offset = wanted.Offset;
                deletes.Add(topic, wanted.PartitionIndex, p => DeleteOnOwnerAsync(p, offset));
            }
        }
        var outcomes = await deletes.RunAsync();
        int at = 0;
        foreach (var topicResult in response.Topics)
        {
            foreach (var result in topicResult.Partitions)
            {
                (result.ErrorCode, result.LowWatermark) = outcomes[at++];
            }
        }
        return response;
    }

    private static async ValueTask<(short Error, long LowWatermark)> DeleteOnOwnerAsync(Partition partition, long offset)
    {
        if ((partition.LogOptions.CleanupPolicy & CleanupPolicy.Delete) == 0)
        {
            return Failed(KafkaErrors.PolicyViolation, null);
        }
        long target = offset == HighWatermark ? partition.HighWatermark : offset;
        if (target < 0 || target > partition.HighWatermark)
        {
            return Failed(KafkaErrors.OffsetOutOfRange, null);
        }
        await partition.MoveStartOffsetAsync(target);
        return (KafkaErrors.None, partition.LogStartOffset);
    }
}
