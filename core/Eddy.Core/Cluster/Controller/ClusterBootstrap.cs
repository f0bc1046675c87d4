using System.Net;
using System.Net.Sockets;

namespace Eddy.Cluster;

/// <summary>
/// Works out, at start and off the shards, who this node is in the cluster: its id, the voters the controller forms
/// with, and where the seeds listen. A seed's id is its position in --seeds (1, 2, 3, ...), so nodes started with the
/// same list agree on every id without talking first; without seeds the node is a one-node cluster, id 1 unless
/// --node-id says otherwise. A node not in --seeds joins through them and gets its id from the cluster (or keeps the
/// one --node-id asks for, if free). A data directory keeps the id it was first started with.
/// </summary>
internal static class ClusterBootstrap
{
    /// <summary>Seeds a cluster may form with (the controller's voters).</summary>
    public const int MaxSeeds = 11;

    /// <param name="MustJoin">The node is not among the seeds and has not joined yet: it asks a seed to let it in
    /// before it starts its part of the controller (its id, 0 to take any, and <paramref name="Voters"/> are then
    /// what the cluster answers).</param>
    public sealed record Identity(int NodeId, int[] Voters, Dictionary<int, IPEndPoint> SeedAddresses, string AdvertisedRpcHost, int AdvertisedRpcPort,
        bool MustJoin = false);

    /// <exception cref="InvalidOperationException">The settings and the data directory disagree, or name no way to form.</exception>
    public static Identity Resolve(ControllerOptions options, int listeningPort, int storedNodeId, int[]? storedVoters)
    {
        var (advertisedHost, advertisedPort) = Advertised(options, listeningPort);
        var seeds = new Dictionary<int, IPEndPoint>();
        int position = 0;
        if (options.Seeds.Count > MaxSeeds)
        {
            throw new InvalidOperationException($"{options.Seeds.Count} seeds; a cluster forms with at most {MaxSeeds}");
        }
        for (int i = 0; i < options.Seeds.Count; i++)
        {
            var (host, port) = SplitHostPort(options.Seeds[i]);
            var address = new IPEndPoint(ResolveHost(host), port);
            if (seeds.ContainsValue(address))
            {
                throw new InvalidOperationException($"seed {options.Seeds[i]} is listed twice");
            }
            seeds[i + 1] = address;
            if (port == advertisedPort && (string.Equals(host, advertisedHost, StringComparison.OrdinalIgnoreCase) || address.Address.Equals(ResolveHost(advertisedHost))))
            {
                position = i + 1;
            }
        }
        int nodeId;
        if (seeds.Count > 0 && position == 0)
        {
            // Not a seed: a node that joins through them. Once it has, its data directory says who it is.
            if (storedVoters is not null)
            {
                if (options.NodeId != 0 && options.NodeId != storedNodeId)
                {
                    throw new InvalidOperationException($"the data directory belongs to node {storedNodeId}, and --node-id says {options.NodeId}");
                }
                return new Identity(storedNodeId, storedVoters, seeds, advertisedHost, advertisedPort);
            }
            return new Identity(options.NodeId, [], seeds, advertisedHost, advertisedPort, MustJoin: true);
        }
        if (seeds.Count > 0)
        {
            if (options.NodeId != 0 && options.NodeId != position)
            {
                throw new InvalidOperationException($"--node-id {options.NodeId}, but this node is seed {position} in --seeds, and a seed's id is its position there");
            }
            nodeId = position;
        }
        else
        {
            nodeId = options.NodeId != 0 ? options.NodeId : storedNodeId != 0 ? storedNodeId : 1;
        }
        if (storedNodeId != 0 && storedNodeId != nodeId)
        {
            throw new InvalidOperationException($"the data directory belongs to node {storedNodeId}, and this node would be node {nodeId}");
        }
        var voters = storedVoters ?? (seeds.Count > 0 ? seeds.Keys.Order().ToArray() : [nodeId]);
        return new Identity(nodeId, voters, seeds, advertisedHost, advertisedPort);
    }

    private static (string Host, int Port) Advertised(ControllerOptions options, int listeningPort)
    {
        if (options.AdvertisedRpcAddress is { } advertised)
        {
            var (host, port) = SplitHostPort(advertised);
            return (host, port == 0 ? listeningPort : port);
        }
        var address = options.RpcAddress.Address;
        string listening = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? Dns.GetHostName() : address.ToString();
        return (listening, listeningPort);
    }

    internal static (string Host, int Port) SplitHostPort(string value)
    {
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), out int port) || port is < 0 or > 65535)
        {
            throw new InvalidOperationException($"'{value}' is not HOST:PORT");
        }
        return (value[..colon].Trim('[', ']'), port);
    }

    private static IPAddress ResolveHost(string host)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return literal;
        }
        try
        {
            var addresses = Dns.GetHostAddresses(host);
            return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException)
        {
            throw new InvalidOperationException($"host '{host}' does not resolve: {e.Message}");
        }
    }
}
