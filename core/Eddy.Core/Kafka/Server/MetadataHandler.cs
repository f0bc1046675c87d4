using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// Metadata (key 3): this node as the only broker and the controller, and the topics asked for. There are no
/// topics yet, so a named topic is unknown (3) or, when its name breaks Kafka's rule, invalid (17).
/// </summary>
public sealed class MetadataHandler : IKafkaApiHandler
{
    public short ApiKey => MetadataRequest.ApiKeyValue;
    public short MinVersion => 0;

    /// <summary>v13 only adds a top-level error code; the issue asks for up to v12.</summary>
    public short MaxVersion => 12;

    public ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (MetadataRequest)request;
        var server = context.Server;
        var response = new MetadataResponse
        {
            Brokers = [new MetadataResponse.MetadataResponseBroker { NodeId = server.NodeId, Host = server.AdvertisedHost, Port = server.AdvertisedPort }],
            ClusterId = server.ClusterId,
            ControllerId = server.NodeId,
        };
        // Null (v1+) or, in v0, empty means every topic: there are none yet.
        if (body.Topics is { Count: > 0 } topics)
        {
            foreach (var topic in topics)
            {
                response.Topics.Add(Describe(topic, context.Header.RequestApiVersion));
            }
        }
        return new ValueTask<IKafkaMessage?>(response);
    }

    private static MetadataResponse.MetadataResponseTopic Describe(MetadataRequest.MetadataRequestTopic topic, short version)
    {
        if (topic.Name is null)
        {
            // v10+ may ask by id alone; no topic has an id yet. The response name may be null only from v12.
            return new MetadataResponse.MetadataResponseTopic { ErrorCode = KafkaErrors.UnknownTopicId, Name = version >= 12 ? null : "", TopicId = topic.TopicId };
        }
        short error = TopicNames.IsValid(topic.Name) ? KafkaErrors.UnknownTopicOrPartition : KafkaErrors.InvalidTopic;
        return new MetadataResponse.MetadataResponseTopic { ErrorCode = error, Name = topic.Name };
    }
}
