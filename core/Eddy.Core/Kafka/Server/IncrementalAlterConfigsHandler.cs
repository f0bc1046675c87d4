using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// IncrementalAlterConfigs (key 44), v0–v1: each operation changes one config of a topic's overrides, the rest stay.
/// SET overrides, DELETE returns to the default, APPEND and SUBTRACT add or remove items of a list config (such as
/// cleanup.policy), starting from its current value (the default when there is no override). The merge runs on the
/// controller against the topic as it is then (<see cref="Broker.ChangeTopicConfigsAsync"/>), so concurrent changes
/// do not lose each other's; the result is checked as a whole and applied to the topic's partitions at once.
/// On the BROKER resource, the cluster-wide defaults that are cluster properties change (<see cref="ClusterDefaultChanges"/>). Errors follow Kafka's controller:
/// a repeated resource or config, an unknown operation or a missing value is INVALID_REQUEST; an unknown config, a
/// bad value, or APPEND/SUBTRACT on a config that is not a list is INVALID_CONFIG.
/// </summary>
public sealed class IncrementalAlterConfigsHandler(TopicTable table) : IKafkaApiHandler
{
    private const sbyte Set = 0;
    private const sbyte Delete = 1;
    private const sbyte Append = 2;
    private const sbyte Subtract = 3;

    public short ApiKey => IncrementalAlterConfigsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 1;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (IncrementalAlterConfigsRequest)request;
        var response = new IncrementalAlterConfigsResponse();
        var duplicates = body.Resources.GroupBy(r => (r.ResourceType, r.ResourceName)).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        foreach (var resource in body.Resources)
        {
            var (error, message) = duplicates.Contains((resource.ResourceType, resource.ResourceName))
                ? (KafkaErrors.InvalidRequest, $"resource {resource.ResourceType}/'{resource.ResourceName}' appears more than once in the request")
                : await AlterAsync(resource, context.Server.NodeId, body.ValidateOnly);
            response.Responses.Add(new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorCode = error,
                ErrorMessage = message,
            });
        }
        return response;
    }

    private async ValueTask<(short, string?)> AlterAsync(IncrementalAlterConfigsRequest.AlterConfigsResource resource, int nodeId, bool validateOnly)
    {
        var operations = resource.Configs;
        if (operations.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            return (KafkaErrors.InvalidRequest, $"config '{twice.Key}' appears more than once");
        }
        foreach (var operation in operations)
        {
            if (operation.ConfigOperation is < Set or > Subtract)
            {
                return (KafkaErrors.InvalidRequest, $"unknown operation {operation.ConfigOperation} on config '{operation.Name}' (0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT)");
            }
            if (operation.Value is null && operation.ConfigOperation != Delete)
            {
                return (KafkaErrors.InvalidRequest, $"config '{operation.Name}' needs a value for {NameOf(operation.ConfigOperation)}");
            }
        }
        switch (resource.ResourceType)
        {
            case ConfigResources.Topic:
                return await AlterTopicAsync(resource.ResourceName, operations, validateOnly);
            case ConfigResources.Broker:
                if (operations.FirstOrDefault(o => o.ConfigOperation is Append or Subtract) is { } listOperation)
                {
                    return (KafkaErrors.InvalidConfig, $"{NameOf(listOperation.ConfigOperation)} works on topics' list configs; SET broker config '{listOperation.Name}' to its whole value");
                }
                return await ClusterDefaultChanges.ApplyAsync(table, resource.ResourceName, nodeId,
                    [.. operations.Where(o => o.ConfigOperation == Set).Select(o => new KeyValuePair<string, string>(o.Name, o.Value!))],
                    [.. operations.Where(o => o.ConfigOperation == Delete).Select(o => o.Name)], validateOnly);
            default:
                return (KafkaErrors.InvalidRequest, ConfigResources.Unsupported(resource.ResourceType));
        }
    }

    private async ValueTask<(short, string?)> AlterTopicAsync(string name, List<IncrementalAlterConfigsRequest.AlterableConfig> operations, bool validateOnly)
    {
        if (!TopicNames.IsValid(name))
        {
            return (KafkaErrors.InvalidTopic, $"'{name}' is not a valid topic name");
        }
        foreach (var operation in operations)
        {
            if (!TopicConfigs.TryGet(operation.Name, out var config))
            {
                return (KafkaErrors.InvalidConfig, $"unknown topic config '{operation.Name}'");
            }
            if (operation.ConfigOperation is Append or Subtract && config.Type != ConfigValueType.List)
            {
                return (KafkaErrors.InvalidConfig, $"{NameOf(operation.ConfigOperation)} works on list configs; '{operation.Name}' is not one");
            }
        }
        var changed = await table.ChangeTopicConfigsAsync(name, topic => Merge(topic.Configs, operations), validateOnly);
        return (changed.Error, changed.Message);
    }

    /// <summary>The overrides after the operations, each naming a different config (checked above).</summary>
    private static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> current, List<IncrementalAlterConfigsRequest.AlterableConfig> operations)
    {
        var next = new Dictionary<string, string>(current, StringComparer.Ordinal);
        foreach (var operation in operations)
        {
            string name = operation.Name;
            switch (operation.ConfigOperation)
            {
                case Set:
                    next[name] = operation.Value!;
                    break;
                case Delete:
                    next.Remove(name);
                    break;
                default:
                    var items = Items(next.TryGetValue(name, out var value) ? value : TopicConfigs.Get(name).Default);
                    foreach (string item in Items(operation.Value!))
                    {
                        if (operation.ConfigOperation == Subtract)
                        {
                            items.Remove(item);
                        }
                        else if (!items.Contains(item))
                        {
                            items.Add(item);
                        }
                    }
                    next[name] = string.Join(',', items);
                    break;
            }
        }
        return next;
    }

    private static List<string> Items(string list) => [.. list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    private static string NameOf(sbyte operation) => operation switch
    {
        Set => "SET",
        Delete => "DELETE",
        Append => "APPEND",
        _ => "SUBTRACT",
    };
}
