using Eddy.Errors;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Client;

/// <summary>Topic operations as Kafka's admin client does them: create, delete, add partitions, read and change
/// configs. Each goes to the controller (any node forwards, but the controller answers first-hand) and fails with a
/// <see cref="KafkaException"/> naming the topic and the error.</summary>
public sealed class TopicAdmin(KafkaClient client)
{
    /// <summary>Kafka's resource types in DescribeConfigs and IncrementalAlterConfigs.</summary>
    public const sbyte TopicResource = 2, BrokerResource = 4;

    /// <summary>IncrementalAlterConfigs' operations.</summary>
    public const sbyte Set = 0, Delete = 1;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public async Task CreateAsync(string topic, int partitions, short replicas, IReadOnlyDictionary<string, string> configs, CancellationToken cancel = default)
    {
        var request = new CreateTopicsRequest
        {
            timeoutMs = (int)Patience.TotalMilliseconds,
            Topics =
            [
                new CreateTopicsRequest.CreatableTopic
                {
                    Name = topic, NumPartitions = partitions, ReplicationFactor = replicas,
                    Configs = configs.Select(c => new CreateTopicsRequest.CreatableTopicConfig { Name = c.Key, Value = c.Value }).ToList(),
                },
            ],
        };
        var answer = await OnControllerAsync<CreateTopicsResponse>(request, r => r.Topics.Select(t => t.ErrorCode), cancel);
        foreach (var result in answer.Topics)
        {
            KafkaException.ThrowIfError($"create topic {result.Name}", result.ErrorCode, result.ErrorMessage);
        }
    }

    public async Task DeleteAsync(IReadOnlyList<string> topics, CancellationToken cancel = default)
    {
        var request = new DeleteTopicsRequest { TopicNames = [.. topics], TimeoutMs = (int)Patience.TotalMilliseconds };
        var answer = await OnControllerAsync<DeleteTopicsResponse>(request, r => r.Responses.Select(t => t.ErrorCode), cancel);
        foreach (var result in answer.Responses)
        {
            KafkaException.ThrowIfError($"delete topic {result.Name}", result.ErrorCode, result.ErrorMessage);
        }
    }

    /// <summary>Grows <paramref name="topic"/> to <paramref name="total"/> partitions.</summary>
    public async Task AddPartitionsAsync(string topic, int total, CancellationToken cancel = default)
    {
        var request = new CreatePartitionsRequest
        {
            Topics = [new CreatePartitionsRequest.CreatePartitionsTopic { Name = topic, Count = total, Assignments = null }],
            TimeoutMs = (int)Patience.TotalMilliseconds,
        };
        var answer = await OnControllerAsync<CreatePartitionsResponse>(request, r => r.Results.Select(t => t.ErrorCode), cancel);
        foreach (var result in answer.Results)
        {
            KafkaException.ThrowIfError($"add partitions to {result.Name}", result.ErrorCode, result.ErrorMessage);
        }
    }

    /// <summary>The configs of one resource (a topic, or a broker: "" for the cluster's defaults, a node id for one node's).</summary>
    public async Task<IReadOnlyList<DescribeConfigsResponse.DescribeConfigsResourceResult>> DescribeConfigsAsync(
        sbyte resourceType, string name, CancellationToken cancel = default)
    {
        var request = new DescribeConfigsRequest
        {
            Resources = [new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = resourceType, ResourceName = name, ConfigurationKeys = null }],
            IncludeDocumentation = true,
        };
        var answer = await client.RetryAsync(c => client.CallAnyAsync<DescribeConfigsResponse>(request, c), Patience, cancel);
        var result = answer.Results.Single();
        KafkaException.ThrowIfError($"describe configs of {ResourceLabel(resourceType, name)}", result.ErrorCode, result.ErrorMessage);
        return result.Configs;
    }

    /// <summary>Sets (a value) or removes (null) each config of one resource, in one request.</summary>
    public async Task AlterConfigsAsync(sbyte resourceType, string name, IReadOnlyDictionary<string, string?> changes, bool dryRun = false,
        CancellationToken cancel = default)
    {
        var request = new IncrementalAlterConfigsRequest
        {
            ValidateOnly = dryRun,
            Resources =
            [
                new IncrementalAlterConfigsRequest.AlterConfigsResource
                {
                    ResourceType = resourceType, ResourceName = name,
                    Configs = changes.Select(c => new IncrementalAlterConfigsRequest.AlterableConfig
                    {
                        Name = c.Key, Value = c.Value, ConfigOperation = c.Value is null ? Delete : Set,
                    }).ToList(),
                },
            ],
        };
        var answer = await OnControllerAsync<IncrementalAlterConfigsResponse>(request, r => r.Responses.Select(x => x.ErrorCode), cancel);
        foreach (var result in answer.Responses)
        {
            KafkaException.ThrowIfError($"alter configs of {ResourceLabel(resourceType, name)}", result.ErrorCode, result.ErrorMessage);
        }
    }

    private static string ResourceLabel(sbyte type, string name) => type == TopicResource ? $"topic {name}"
        : name.Length == 0 ? "the cluster" : $"broker {name}";

    /// <summary>Sends to the controller, again (after fresh metadata) while it answers NOT_CONTROLLER or cannot be
    /// reached: a controller election moves it.</summary>
    private Task<T> OnControllerAsync<T>(Kafka.Protocol.IKafkaMessage request, Func<T, IEnumerable<short>> errors, CancellationToken cancel)
        where T : Kafka.Protocol.IKafkaMessage
        => client.RetryAsync(async c =>
        {
            var metadata = client.Known ?? await client.MetadataAsync([], c);
            var answer = metadata.ControllerId >= 0 && metadata.Broker(metadata.ControllerId) is not null
                ? await client.CallAsync<T>(metadata.ControllerId, request, c)
                : await client.CallAnyAsync<T>(request, c);
            if (errors(answer).Contains(KafkaErrors.NotController))
            {
                throw KafkaException.For("find the controller", KafkaErrors.NotController);
            }
            return answer;
        }, Patience, cancel);
}
