using Eddy.Cluster;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// OffsetForLeaderEpoch (key 23), v0–v4: where a leader epoch ends, which clients use to detect log truncation. One
/// node is leader forever in epoch 0, which starts at the log start offset, so Kafka's epoch cache answers:
/// epoch 0 ends at the log end offset; a later epoch is unknown (-1, -1, no error); -1 is undefined (-1, -1); an
/// earlier (negative) one gets the start of the first known epoch, the log start offset. CurrentLeaderEpoch (v2+) is
/// checked first, as Kafka checks it: -1 skips the check, above 0 is UNKNOWN_LEADER_EPOCH, below 0 FENCED_LEADER_EPOCH.
/// </summary>
public sealed class OffsetForLeaderEpochHandler(Broker broker) : IKafkaApiHandler
{
    private const int NoEpoch = -1;

    public short ApiKey => OffsetForLeaderEpochRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 4;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (OffsetForLeaderEpochRequest)request;
        var response = new OffsetForLeaderEpochResponse();
        var pending = new List<(OffsetForLeaderEpochResponse.EpochEndOffset Result, int Epoch, ValueTask<(bool, long, long)> Offsets)>();
        foreach (var wantedTopic in body.Topics)
        {
            var topicResult = new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult { Topic = wantedTopic.Topic };
            response.Topics.Add(topicResult);
            broker.Topics.TryGet(wantedTopic.Topic, out var topic);
            foreach (var wanted in wantedTopic.Partitions)
            {
                var result = new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = wanted.Partition, LeaderEpoch = NoEpoch, EndOffset = -1 };
                topicResult.Partitions.Add(result);
                if (topic is null || wanted.Partition < 0 || wanted.Partition >= topic.PartitionCount)
                {
                    result.ErrorCode = KafkaErrors.UnknownTopicOrPartition;
                    continue;
                }
                short fenced = LeaderEpochCheck.Of(wanted.CurrentLeaderEpoch);
                if (fenced != KafkaErrors.None)
                {
                    result.ErrorCode = fenced;
                    continue;
                }
                string name = topic.Name;
                int index = wanted.Partition;
                // Started now, awaited once each below: the partitions' shards work in parallel.
#pragma warning disable CA2012
                pending.Add((result, wanted.LeaderEpoch, broker.OnPartitionAsync(name, index, static p => new ValueTask<(bool, long, long)>((true, p.LogStartOffset, p.Log.LogEndOffset)), (false, -1L, -1L))));
#pragma warning restore CA2012
            }
        }
        foreach (var (result, epoch, offsets) in pending)
        {
            var (found, start, end) = await offsets;
            if (!found)
            {
                result.ErrorCode = KafkaErrors.UnknownTopicOrPartition;
                continue;
            }
            (result.LeaderEpoch, result.EndOffset) = EndOf(epoch, start, end);
        }
        return response;
    }

    /// <summary>The epoch and end offset Kafka's leader-epoch cache gives for <paramref name="epoch"/> when its only
    /// entry is epoch 0 starting at <paramref name="logStart"/>.</summary>
    private static (int Epoch, long EndOffset) EndOf(int epoch, long logStart, long logEnd) => epoch switch
    {
        0 => (0, logEnd),
        NoEpoch => (NoEpoch, -1),
        < 0 => (epoch, logStart),
        _ => (NoEpoch, -1),
    };

}
