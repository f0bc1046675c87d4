using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// CreateTopics (key 19). Each topic is created (or, with validateOnly, checked) on its own; a replication factor
/// above the node count is accepted and recorded, with one replica for now. Manual assignments may only name
/// this node.
/// </summary>
public sealed class CreateTopicsHandler(TopicTable table) : IKafkaApiHandler
{

    public short ApiKey => CreateTopicsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 7;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (CreateTopicsRequest)request;
        short version = context.Header.RequestApiVersion;
        var response = new CreateTopicsResponse();
        var duplicates = body.Topics.GroupBy(t => t.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        foreach (var wanted in body.Topics)
        {
            var result = new CreateTopicsResponse.CreatableTopicResult { Name = wanted.Name, ErrorMessage = null };
            response.Topics.Add(result);
            if (duplicates.Contains(wanted.Name))
            {
                Fail(result, KafkaErrors.InvalidRequest, $"topic '{wanted.Name}' appears more than once in the request");
                continue;
            }
            int partitions = wanted.NumPartitions;
            short replication = wanted.ReplicationFactor;
            if (wanted.Assignments.Count > 0)
            {
                if (partitions != -1 || replication != -1)
                {
                    Fail(result, KafkaErrors.InvalidRequest, "with manual assignments, numPartitions and replicationFactor must be -1");
                    continue;
                }
                if (wanted.Assignments.Any(a => a.BrokerIds.Any(id => id != context.Server.NodeId)))
                {
                    Fail(result, KafkaErrors.InvalidReplicaAssignment, $"assignments may only name node {context.Server.NodeId}, the only node");
                    continue;
                }
                partitions = wanted.Assignments.Count;
                replication = (short)wanted.Assignments.Max(a => a.BrokerIds.Count);
            }
            var configs = new Dictionary<string, string>(StringComparer.Ordinal);
            string? configProblem = null;
            foreach (var config in wanted.Configs)
            {
                if (config.Value is null)
                {
                    continue; // null means "the default", as in Kafka
                }
                if (!configs.TryAdd(config.Name, config.Value))
                {
                    configProblem = $"topic config '{config.Name}' appears more than once";
                }
            }
            if (configProblem is not null)
            {
                Fail(result, KafkaErrors.InvalidConfig, configProblem);
                continue;
            }
            var created = await table.CreateTopicAsync(new TopicSpec(wanted.Name, partitions, replication, configs), body.validateOnly);
            if (!created.IsOk)
            {
                Fail(result, created.Error, created.Message);
                continue;
            }
            var topic = created.Topic!;
            result.TopicId = body.validateOnly ? Guid.Empty : topic.Id;
            result.NumPartitions = topic.PartitionCount;
            result.ReplicationFactor = topic.ReplicationFactor;
            if (version >= 5)
            {
                result.Configs = TopicConfigs.All.Select(c =>
                {
                    var (value, source) = topic.Configs.TryGetValue(c.Name, out var set) ? (set, ConfigSources.DynamicTopic) : BrokerConfigs.TopicDefault(c, table.TopicDefaults);
                    return new CreateTopicsResponse.CreatableTopicConfigs { Name = c.Name, Value = value, ConfigSource = source };
                }).ToList();
            }
        }
        return response;
    }

    private static void Fail(CreateTopicsResponse.CreatableTopicResult result, short error, string? message)
    {
        result.ErrorCode = error;
        result.ErrorMessage = message;
        result.Configs = null;
    }
}
