using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Client;

/// <summary>
/// The version of each API this client sends to one broker: the highest that the broker serves, the codec knows and
/// the client has a use for. Produce and Fetch stop at v12, the last versions that name topics (v13 names them by id,
/// which this client does not track), DeleteTopics at v5 (the last that takes plain names);
/// FindCoordinator, OffsetFetch and OffsetCommit at the last versions that take one group (v3, v7, v8), LeaveGroup at
/// the last that takes one member (v2).
/// </summary>
public sealed class ApiVersionTable
{
    private static readonly Dictionary<short, short> ClientCaps = new()
    {
        [ProduceRequest.ApiKeyValue] = 12,
        [FetchRequest.ApiKeyValue] = 12,
        [DeleteTopicsRequest.ApiKeyValue] = 5,
        [FindCoordinatorRequest.ApiKeyValue] = 3,
        [OffsetFetchRequest.ApiKeyValue] = 7,
        [OffsetCommitRequest.ApiKeyValue] = 8,
        [LeaveGroupRequest.ApiKeyValue] = 2,
    };

    private readonly Dictionary<short, short> _agreed;

    private ApiVersionTable(Dictionary<short, short> agreed) => _agreed = agreed;

    /// <summary>Before ApiVersions has answered, nothing is agreed (ApiVersions itself is sent at a fixed version).</summary>
    public static ApiVersionTable BeforeHandshake { get; } = new(new Dictionary<short, short>());

    public static ApiVersionTable From(ApiVersionsResponse response)
    {
        var agreed = new Dictionary<short, short>();
        foreach (var served in response.ApiKeys)
        {
            if (!KafkaApis.TryGet(served.ApiKey, out var known))
            {
                continue;
            }
            short high = Math.Min(served.MaxVersion, known.MaxVersion);
            if (ClientCaps.TryGetValue(served.ApiKey, out short cap))
            {
                high = Math.Min(high, cap);
            }
            if (high >= Math.Max(served.MinVersion, known.MinVersion))
            {
                agreed[served.ApiKey] = high;
            }
        }
        return new ApiVersionTable(agreed);
    }

    public bool TryAgree(short apiKey, out short version) => _agreed.TryGetValue(apiKey, out version);

    public static string NameOf(short apiKey) => KafkaApis.TryGet(apiKey, out var api) ? api.Name : $"API {apiKey}";
}
