using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Entry = Eddy.Kafka.Protocol.Messages.DescribeConfigsResponse.DescribeConfigsResourceResult;
using Synonym = Eddy.Kafka.Protocol.Messages.DescribeConfigsResponse.DescribeConfigsSynonym;

namespace Eddy.Kafka.Server;

/// <summary>
/// DescribeConfigs (key 32), v0–v4, for topics (resource type 2) and this broker (4). A topic reports every config of
/// <see cref="TopicConfigs"/>: an override with source DYNAMIC_TOPIC_CONFIG, otherwise the default with DEFAULT_CONFIG.
/// The broker reports <see cref="BrokerConfigs"/>, all read-only; the empty broker name (the cluster-wide dynamic
/// defaults) has none. Synonyms (v1+) list the topic override and the broker config behind its default, as Kafka does;
/// documentation (v3+) only when asked; the type (v3+) always. ConfigurationKeys null or empty means every config.
/// </summary>
public sealed class DescribeConfigsHandler(TopicTable table) : IKafkaApiHandler
{
    public short ApiKey => DescribeConfigsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 4;

    public ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (DescribeConfigsRequest)request;
        short version = context.Header.RequestApiVersion;
        bool v0 = version == 0;
        bool synonyms = version >= 1 && body.IncludeSynonyms;
        bool documentation = version >= 3 && body.IncludeDocumentation;
        var response = new DescribeConfigsResponse();
        foreach (var resource in body.Resources)
        {
            var result = new DescribeConfigsResponse.DescribeConfigsResult
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorMessage = null,
            };
            response.Results.Add(result);
            var keys = resource.ConfigurationKeys is { Count: > 0 } named ? named.ToHashSet(StringComparer.Ordinal) : null;
            switch (resource.ResourceType)
            {
                case ConfigResources.Topic:
                    DescribeTopic(result, keys, v0, synonyms, documentation);
                    break;
                case ConfigResources.Broker:
                    DescribeBroker(result, context.Server, keys, v0, synonyms, documentation);
                    break;
                default:
                    result.ErrorCode = KafkaErrors.InvalidRequest;
                    result.ErrorMessage = ConfigResources.Unsupported(resource.ResourceType);
                    break;
            }
        }
        return new(response);
    }

    private void DescribeTopic(DescribeConfigsResponse.DescribeConfigsResult result, HashSet<string>? keys, bool v0, bool synonyms, bool documentation)
    {
        string name = result.ResourceName;
        if (!TopicNames.IsValid(name))
        {
            result.ErrorCode = KafkaErrors.InvalidTopic;
            result.ErrorMessage = $"'{name}' is not a valid topic name";
            return;
        }
        if (!table.Topics.TryGet(name, out var topic))
        {
            result.ErrorCode = KafkaErrors.UnknownTopicOrPartition;
            result.ErrorMessage = $"topic '{name}' does not exist";
            return;
        }
        foreach (var config in TopicConfigs.All)
        {
            if (keys is not null && !keys.Contains(config.Name))
            {
                continue;
            }
            bool overridden = topic.Configs.TryGetValue(config.Name, out var value);
            var (brokerValue, brokerSource) = BrokerConfigs.TopicDefault(config, table.TopicDefaults);
            var entry = new Entry
            {
                Name = config.Name,
                Value = overridden ? value : brokerValue,
                ReadOnly = false,
                IsSensitive = false,
                ConfigSource = overridden ? ConfigSources.DynamicTopic : brokerSource,
                IsDefault = v0 && !overridden, // v0 only; later versions say it with ConfigSource
                ConfigType = (sbyte)config.Type,
                Documentation = documentation ? config.Documentation : null,
            };
            if (synonyms)
            {
                if (overridden)
                {
                    entry.Synonyms.Add(new Synonym { Name = config.Name, Value = value, Source = ConfigSources.DynamicTopic });
                }
                entry.Synonyms.Add(new Synonym { Name = BrokerConfigs.SynonymOf(config.Name), Value = brokerValue, Source = brokerSource });
            }
            result.Configs.Add(entry);
        }
    }

    private void DescribeBroker(DescribeConfigsResponse.DescribeConfigsResult result, KafkaServer server, HashSet<string>? keys, bool v0, bool synonyms, bool documentation)
    {
        if (ConfigResources.CheckBrokerName(result.ResourceName, server.NodeId, out bool isDefaults) is { } problem)
        {
            result.ErrorCode = KafkaErrors.InvalidRequest;
            result.ErrorMessage = problem;
            return;
        }
        foreach (var config in isDefaults ? BrokerConfigs.ClusterDefaults(table) : BrokerConfigs.Of(table, server))
        {
            if (keys is not null && !keys.Contains(config.Name))
            {
                continue;
            }
            var entry = new Entry
            {
                Name = config.Name,
                Value = config.Value,
                ReadOnly = config.ReadOnly,
                IsSensitive = false,
                ConfigSource = config.Source,
                IsDefault = v0 && config.Source == ConfigSources.Default,
                ConfigType = (sbyte)config.Type,
                Documentation = documentation ? config.Documentation : null,
            };
            if (synonyms)
            {
                entry.Synonyms.Add(new Synonym { Name = config.Name, Value = config.Value, Source = config.Source });
            }
            result.Configs.Add(entry);
        }
    }
}
