using Eddy.Errors;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// OffsetFetch (key 9), v0-9: one group up to v7 (a null topic list from v2 means every committed partition), several
/// groups from v8. A partition without a commit gets offset -1 and no error. Group-level errors go per partition in
/// v0-1, in the top-level error from v2 and per group from v8. v9's member id and epoch concern KIP-848 groups and
/// are ignored for classic ones, as in Kafka; RequireStable has nothing to wait for without transactions.
/// </summary>
public sealed class OffsetFetchHandler(GroupRouter router) : IKafkaApiHandler
{
    public short ApiKey => OffsetFetchRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 9;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (OffsetFetchRequest)request;
        short version = context.Header.RequestApiVersion;
        return version >= 8 ? await FetchGroupsAsync(body) : await FetchOneAsync(body, version);
    }

    private async ValueTask<OffsetFetchResponse> FetchOneAsync(OffsetFetchRequest body, short version)
    {
        List<TopicPartition>? asked = body.Topics?.SelectMany(t => t.PartitionIndexes.Select(p => new TopicPartition(t.Name, p))).ToList();
        var (error, offsets) = await FetchAsync(body.GroupId, asked);
        var response = new OffsetFetchResponse();
        if (error != KafkaErrors.None)
        {
            if (version >= 2)
            {
                response.ErrorCode = error;
                return response;
            }
            // v0-1 have no top-level error: every asked partition carries it.
            offsets = (asked ?? []).Select(tp => (tp, (CommittedOffset?)null)).ToList();
        }
        foreach (var byTopic in offsets.GroupBy(o => o.Partition.Topic))
        {
            var topic = new OffsetFetchResponse.OffsetFetchResponseTopic { Name = byTopic.Key };
            foreach (var (tp, offset) in byTopic)
            {
                topic.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartition
                {
                    PartitionIndex = tp.Partition,
                    CommittedOffset = offset?.Offset ?? -1,
                    CommittedLeaderEpoch = offset?.LeaderEpoch ?? -1,
                    Metadata = offset?.Metadata ?? "",
                    ErrorCode = error,
                });
            }
            response.Topics.Add(topic);
        }
        return response;
    }

    private async ValueTask<OffsetFetchResponse> FetchGroupsAsync(OffsetFetchRequest body)
    {
        var response = new OffsetFetchResponse();
        foreach (var group in body.Groups)
        {
            List<TopicPartition>? asked = group.Topics?.SelectMany(t => t.PartitionIndexes.Select(p => new TopicPartition(t.Name, p))).ToList();
            var (error, offsets) = await FetchAsync(group.GroupId, asked);
            var answered = new OffsetFetchResponse.OffsetFetchResponseGroup { GroupId = group.GroupId, ErrorCode = error };
            foreach (var byTopic in offsets.GroupBy(o => o.Partition.Topic))
            {
                var topic = new OffsetFetchResponse.OffsetFetchResponseTopics { Name = byTopic.Key };
                foreach (var (tp, offset) in byTopic)
                {
                    topic.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartitions
                    {
                        PartitionIndex = tp.Partition,
                        CommittedOffset = offset?.Offset ?? -1,
                        CommittedLeaderEpoch = offset?.LeaderEpoch ?? -1,
                        Metadata = offset?.Metadata ?? "",
                    });
                }
                answered.Topics.Add(topic);
            }
            response.Groups.Add(answered);
        }
        return response;
    }

    private ValueTask<(short ErrorCode, List<(TopicPartition Partition, CommittedOffset? Offset)> Offsets)> FetchAsync(string groupId, List<TopicPartition>? asked)
        => router.OnOwnerAsync(groupId, c => c.FetchOffsets(groupId, asked));
}
