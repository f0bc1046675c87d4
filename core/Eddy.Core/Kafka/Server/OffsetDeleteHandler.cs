using Eddy.Errors;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>OffsetDelete (key 47), v0: removes committed offsets of partitions no member consumes (KIP-496).</summary>
public sealed class OffsetDeleteHandler(GroupRouter router) : IKafkaApiHandler
{
    public short ApiKey => OffsetDeleteRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 0;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (OffsetDeleteRequest)request;
        var partitions = body.Topics.SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Name, p.PartitionIndex))).ToList();
        var (error, errors) = await router.OnOwnerAsync(body.GroupId, c => c.DeleteOffsetsAsync(body.GroupId, partitions));
        var response = new OffsetDeleteResponse { ErrorCode = error };
        if (error != KafkaErrors.None)
        {
            return response;
        }
        int i = 0;
        foreach (var topic in body.Topics)
        {
            var answered = new OffsetDeleteResponse.OffsetDeleteResponseTopic { Name = topic.Name };
            foreach (var p in topic.Partitions)
            {
                answered.Partitions.Add(new OffsetDeleteResponse.OffsetDeleteResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = errors[i++] });
            }
            response.Topics.Add(answered);
        }
        return response;
    }
}
