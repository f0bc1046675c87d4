namespace Eddy.Client;

/// <summary>How a <see cref="KafkaClient"/> reaches the cluster.</summary>
public sealed record KafkaClientOptions
{
    /// <summary>The node used when neither an option nor EDDY_BROKERS names one: a node started with its defaults.</summary>
    public const string LocalBootstrap = "127.0.0.1:9092";

    /// <summary>Comma-separated host:port pairs to ask for the cluster's metadata. Default: the local node.</summary>
    public string Bootstrap { get; init; } = LocalBootstrap;

    /// <summary>The client id every request carries. Default: eddy-cli.</summary>
    public string ClientId { get; init; } = "eddy-cli";

    /// <summary>How long one request may wait for its answer before the connection is given up. Default: 30 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a connection attempt may take. Default: 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The host:port pairs of <see cref="Bootstrap"/>; a bad entry throws with the entry named.</summary>
    public IReadOnlyList<(string Host, int Port)> BootstrapEndpoints()
    {
        var endpoints = new List<(string, int)>();
        foreach (var entry in Bootstrap.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = entry.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(entry.AsSpan(colon + 1), out int port) || port is <= 0 or > 65535)
            {
                throw new ArgumentException($"broker address '{entry}' is not host:port");
            }
            endpoints.Add((entry[..colon].Trim('[', ']'), port));
        }
        if (endpoints.Count == 0)
        {
            throw new ArgumentException("no broker address given");
        }
        return endpoints;
    }
}
