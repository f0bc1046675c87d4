using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// OffsetCommit (key 8), v0-9. v0 carries no member or generation and is served as a simple commit; v10 (topic ids)
/// waits for topic ids. Retention times (v2-4) and commit timestamps (v1) are accepted and ignored: offsets do not
/// expire here, and the broker stamps the commit time.
/// </summary>
public sealed class OffsetCommitHandler(GroupRouter router) : IKafkaApiHandler
{
    public short ApiKey => OffsetCommitRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 9;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (OffsetCommitRequest)request;
        short version = context.Header.RequestApiVersion;
        var entries = new List<OffsetCommitEntry>();
        foreach (var topic in body.Topics)
        {
            foreach (var p in topic.Partitions)
            {
                entries.Add(new OffsetCommitEntry(topic.Name, p.PartitionIndex, p.CommittedOffset, p.CommittedLeaderEpoch, p.CommittedMetadata));
            }
        }
        int generation = version >= 1 ? body.GenerationIdOrMemberEpoch : -1;
        string memberId = version >= 1 ? body.MemberId : "";
        string? instanceId = version >= 7 ? body.GroupInstanceId : null;
        short[] errors = await router.OnOwnerAsync(body.GroupId, c => c.CommitAsync(body.GroupId, generation, memberId, instanceId, entries));
        var response = new OffsetCommitResponse();
        int i = 0;
        foreach (var topic in body.Topics)
        {
            var answered = new OffsetCommitResponse.OffsetCommitResponseTopic { Name = topic.Name };
            foreach (var p in topic.Partitions)
            {
                answered.Partitions.Add(new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = errors[i++] });
            }
            response.Topics.Add(answered);
        }
        return response;
    }
}
