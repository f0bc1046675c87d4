using Eddy.Config;

namespace Eddy.Kafka.Server;

/// <summary>What the Kafka server needs from the node's settings.</summary>
public sealed class KafkaServerOptions
{
    /// <summary>Kafka's socket.request.max.bytes default: the largest request frame accepted.</summary>
    public const int DefaultMaxRequestBytes = 100 * 1024 * 1024;

    /// <summary>This broker's id: the node's id in the cluster (<see cref="ForNode"/>).</summary>
    public int NodeId { get; private init; }

    /// <summary>Host clients are told to connect to; null: the listener's address (the host name when it listens on any).</summary>
    public string? AdvertisedHost { get; init; }

    /// <summary>Port clients are told to connect to; 0: the bound port (which matters when listening on port 0).</summary>
    public int AdvertisedPort { get; init; }

    /// <summary>Largest request frame (without its 4-byte size); a larger size prefix closes the connection.</summary>
    public int MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    /// <summary>These options for node <paramref name="nodeId"/>: the id the cluster settled on.</summary>
    public KafkaServerOptions ForNode(int nodeId) => new()
    {
        NodeId = nodeId,
        AdvertisedHost = AdvertisedHost,
        AdvertisedPort = AdvertisedPort,
        MaxRequestBytes = MaxRequestBytes,
    };

    public static KafkaServerOptions FromConfig(NodeConfig config)
    {
        string? host = null;
        int port = 0;
        if (config.AdvertisedKafkaAddress is { } advertised)
        {
            int colon = advertised.LastIndexOf(':');
            host = advertised[..colon];
            port = int.Parse(advertised.AsSpan(colon + 1));
        }
        return new KafkaServerOptions
        {
            AdvertisedHost = host,
            AdvertisedPort = port,
            MaxRequestBytes = config.KafkaMaxRequestBytes,
        };
    }
}
