using Eddy.Cluster;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// The handlers by API key, and the ApiVersions list built from them once: advertising is derived from the
/// table, so the broker cannot claim an API it does not serve.
/// </summary>
public sealed class ApiHandlerTable
{
    private readonly IKafkaApiHandler?[] _byKey = new IKafkaApiHandler?[KafkaApis.All.Length];

    public ApiHandlerTable(IEnumerable<IKafkaApiHandler> handlers)
    {
        var advertised = new List<ApiVersionsResponse.ApiVersion>();
        foreach (var handler in handlers)
        {
            // A handler may only claim versions the codec can read and write.
            if (!KafkaApis.TryGet(handler.ApiKey, out var api) || handler.MinVersion < api.MinVersion || handler.MaxVersion > api.MaxVersion
                || handler.MinVersion > handler.MaxVersion)
            {
                throw new ArgumentException($"handler for API {handler.ApiKey} claims versions {handler.MinVersion}..{handler.MaxVersion} the codec lacks");
            }
            if (_byKey[handler.ApiKey] is not null)
            {
                throw new ArgumentException($"two handlers for API {handler.ApiKey}");
            }
            _byKey[handler.ApiKey] = handler;
        }
        foreach (var handler in _byKey)
        {
            if (handler is not null)
            {
                advertised.Add(new ApiVersionsResponse.ApiVersion { ApiKey = handler.ApiKey, MinVersion = handler.MinVersion, MaxVersion = handler.MaxVersion });
            }
        }
        Advertised = advertised;
    }

    /// <summary>The ApiVersions entries in key order. Shared by every response: it is only read while a response is written.</summary>
    public List<ApiVersionsResponse.ApiVersion> Advertised { get; }

    /// <summary>The handler for this key when it serves this version.</summary>
    public bool TryGet(short apiKey, short version, out IKafkaApiHandler handler)
    {
        handler = (uint)apiKey < (uint)_byKey.Length ? _byKey[apiKey]! : null!;
        return handler is not null && version >= handler.MinVersion && version <= handler.MaxVersion;
    }

    /// <summary>Every API this broker serves, over <paramref name="broker"/>'s topics and partitions and
    /// <paramref name="groups"/>' coordinators.</summary>
    public static ApiHandlerTable Create(Broker broker, GroupRouter groups) => new(
    [
        new ApiVersionsHandler(),
        new MetadataHandler(broker.Table, broker.Controller),
        new ProduceHandler(broker.Router),
        new FetchHandler(broker.Router),
        new ListOffsetsHandler(broker.Router),
        new CreateTopicsHandler(broker.Table),
        new DeleteTopicsHandler(broker.Table),
        new CreatePartitionsHandler(broker.Table),
        new AlterPartitionReassignmentsHandler(broker.Table),
        new ListPartitionReassignmentsHandler(broker.Table),
        new DescribeConfigsHandler(broker.Table),
        new AlterConfigsHandler(broker.Table),
        new IncrementalAlterConfigsHandler(broker.Table),
        new DescribeClusterHandler(broker.Controller),
        new UnregisterBrokerHandler(broker.Controller),
        new DescribeLogDirsHandler(broker),
        new DeleteRecordsHandler(broker.Router),
        new OffsetForLeaderEpochHandler(broker.Router),
        new InitProducerIdHandler(broker.Table.ProducerIds),
        .. GroupHandlers.Create(groups, broker.Router),
    ]);
}
