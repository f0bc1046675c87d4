using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>DeleteTopics (key 20): by name (v0–v5) or by name or id (v6). Internal topics are refused.</summary>
public sealed class DeleteTopicsHandler(TopicTable table) : IKafkaApiHandler
{
    public short ApiKey => DeleteTopicsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 6;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (DeleteTopicsRequest)request;
        var response = new DeleteTopicsResponse();
        var wanted = context.Header.RequestApiVersion >= 6
            ? body.Topics.Select(t => (t.Name, t.TopicId)).ToList()
            : body.TopicNames.Select(n => ((string?)n, Guid.Empty)).ToList();
        foreach (var (name, id) in wanted)
        {
            var result = new DeleteTopicsResponse.DeletableTopicResult { Name = name, TopicId = id };
            response.Responses.Add(result);
            string? resolved = name;
            if (resolved is null)
            {
                if (!table.Topics.ById.TryGetValue(id, out var byId))
                {
                    result.ErrorCode = KafkaErrors.UnknownTopicId;
                    result.ErrorMessage = $"no topic has id {id}";
                    continue;
                }
                resolved = byId.Name;
                result.Name = resolved;
            }
            var deleted = await table.DeleteTopicAsync(resolved);
            result.ErrorCode = deleted.Error;
            result.ErrorMessage = deleted.Message;
            if (deleted.Topic is { } topic)
            {
                result.TopicId = topic.Id;
            }
        }
        return response;
    }
}
