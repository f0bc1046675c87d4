using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// OffsetForLeaderEpoch (key 23), v0–v4: where a leader epoch ends, which clients use to detect log truncation
/// (KIP-101, KIP-320), answered from the partition's epoch history as Kafka's leader-epoch cache answers
/// (<see cref="LeaderEpochHistory.EndOffsetFor"/>). CurrentLeaderEpoch (v2+) is checked first, as Kafka checks it:
/// -1 skips the check, an older epoch is FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH.
/// </summary>
public sealed class OffsetForLeaderEpochHandler(PartitionRouter router) : IKafkaApiHandler
{
    private static readonly Func<short, string?, EpochEnd> Failed = static (error, _) => new EpochEnd(error, LeaderEpochHistory.UndefinedEpoch, LeaderEpochHistory.UndefinedOffset);

    public short ApiKey => OffsetForLeaderEpochRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 4;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (OffsetForLeaderEpochRequest)request;
        var response = new OffsetForLeaderEpochResponse();
        var lookups = router.FanOut(Failed);
        var topics = router.Topics;
        foreach (var wantedTopic in body.Topics)
        {
            var topicResult = new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult { Topic = wantedTopic.Topic };
            response.Topics.Add(topicResult);
            topics.TryGet(wantedTopic.Topic, out var topic);
            foreach (var wanted in wantedTopic.Partitions)
            {
                topicResult.Partitions.Add(new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = wanted.Partition });
                int current = wanted.CurrentLeaderEpoch;
                int epoch = wanted.LeaderEpoch;
                lookups.Add(topic, wanted.Partition, p => new ValueTask<EpochEnd>(EndOf(p, current, epoch)));
            }
        }
        var ends = await lookups.RunAsync();
        int at = 0;
        foreach (var topicResult in response.Topics)
        {
            foreach (var result in topicResult.Partitions)
            {
                (result.ErrorCode, result.LeaderEpoch, result.EndOffset) = ends[at++];
            }
        }
        return response;
    }

    private static EpochEnd EndOf(Partition partition, int currentEpoch, int epoch)
    {
        short fenced = partition.CheckLeaderEpoch(currentEpoch);
        if (fenced != KafkaErrors.None)
        {
            return Failed(fenced, null);
        }
        var (found, end) = partition.EndOffsetForEpoch(epoch);
        return new EpochEnd(KafkaErrors.None, found, end);
    }

    private readonly record struct EpochEnd(short Error, int LeaderEpoch, long EndOffset);
}
