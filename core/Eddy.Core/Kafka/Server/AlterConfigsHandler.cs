using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// AlterConfigs (key 33), v0–v2, the legacy form: a topic's overrides become exactly the configs given (a null value
/// leaves that config at its default), checked as a whole and applied to the topic's partitions at once; validateOnly
/// only checks. On the BROKER resource, the cluster-wide defaults that are cluster properties are set
/// (<see cref="ClusterDefaultChanges"/>). A resource named twice, or a
/// config named twice in one resource, is INVALID_REQUEST.
/// </summary>
public sealed class AlterConfigsHandler(TopicTable table) : IKafkaApiHandler
{
    public short ApiKey => AlterConfigsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 2;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (AlterConfigsRequest)request;
        var response = new AlterConfigsResponse();
        var duplicates = body.Resources.GroupBy(r => (r.ResourceType, r.ResourceName)).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        foreach (var resource in body.Resources)
        {
            var (error, message) = duplicates.Contains((resource.ResourceType, resource.ResourceName))
                ? (KafkaErrors.InvalidRequest, $"resource {resource.ResourceType}/'{resource.ResourceName}' appears more than once in the request")
                : await AlterAsync(resource, context.Server.NodeId, body.ValidateOnly);
            response.Responses.Add(new AlterConfigsResponse.AlterConfigsResourceResponse
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorCode = error,
                ErrorMessage = message,
            });
        }
        return response;
    }

    private async ValueTask<(short, string?)> AlterAsync(AlterConfigsRequest.AlterConfigsResource resource, int nodeId, bool validateOnly)
    {
        if (resource.Configs.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            return (KafkaErrors.InvalidRequest, $"config '{twice.Key}' appears more than once");
        }
        var setting = resource.Configs.Where(c => c.Value is not null).ToDictionary(c => c.Name, c => c.Value!, StringComparer.Ordinal);
        switch (resource.ResourceType)
        {
            case ConfigResources.Topic:
                if (!TopicNames.IsValid(resource.ResourceName))
                {
                    return (KafkaErrors.InvalidTopic, $"'{resource.ResourceName}' is not a valid topic name");
                }
                var changed = await table.SetTopicConfigsAsync(resource.ResourceName, setting, validateOnly);
                return (changed.Error, changed.Message);
            case ConfigResources.Broker:
                // AlterConfigs replaces a resource's dynamic configs: those not named go back to unset.
                return await ClusterDefaultChanges.ApplyAsync(table, resource.ResourceName, nodeId, [.. setting],
                    [.. ClusterProperties.All.Select(ClusterProperties.KafkaNameOf).Where(name => !setting.ContainsKey(name))], validateOnly);
            default:
                return (KafkaErrors.InvalidRequest, ConfigResources.Unsupported(resource.ResourceType));
        }
    }
}
