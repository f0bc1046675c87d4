using Eddy.Rpc;

namespace Eddy.Cluster;

/// <summary>
/// A node not among the seeds asking any node of the cluster to let it in: the id it wants (0: any), where its RPC
/// listener is, and a token it made and kept before asking, so that asking again after a lost answer gets the same
/// id, while a node that lost its data directory (and with it the token) cannot take an id that is still owned.
/// </summary>
public sealed record JoinRequest(int NodeId, string RpcHost, int RpcPort, Guid Token)
{
    public void Write(RpcWriter writer)
    {
        writer.WriteInt32(NodeId);
        writer.WriteString(RpcHost, BrokerInfo.MaxHostBytes);
        writer.WriteInt32(RpcPort);
        writer.WriteBytes(Token.ToByteArray(bigEndian: true));
    }

    public static JoinRequest Read(ref RpcReader reader)
    {
        int nodeId = reader.ReadInt32();
        string host = reader.ReadString(BrokerInfo.MaxHostBytes);
        int port = reader.ReadInt32();
        var token = reader.ReadBytes();
        if (nodeId < 0 || port is <= 0 or > 65535 || token.Length != 16)
        {
            throw new RpcFormatException($"a join of node {nodeId} at {host}:{port} is not valid");
        }
        return new JoinRequest(nodeId, host, port, new Guid(token, bigEndian: true));
    }

    public byte[] Encode()
    {
        var writer = new RpcWriter();
        Write(writer);
        return writer.Written.ToArray();
    }

    public static JoinRequest Decode(ReadOnlySpan<byte> data)
    {
        var reader = new RpcReader(data);
        var request = Read(ref reader);
        reader.End();
        return request;
    }
}

/// <summary>The answer to a <see cref="JoinRequest"/>: the newcomer's id, the cluster's id (which it says in its hellos
/// from then on, before its log has caught up: a member that says none is taken for one that lost its data), and the
/// voters the controller formed with, which its copy of the controller's log starts from.</summary>
public sealed record JoinReply(int NodeId, string ClusterId, int[] BootstrapVoters)
{
    public byte[] Encode()
    {
        var writer = new RpcWriter();
        writer.WriteInt32(NodeId);
        writer.WriteString(ClusterId, Hello.MaxClusterIdBytes);
        writer.WriteInt32s(BootstrapVoters);
        return writer.Written.ToArray();
    }

    public static JoinReply Decode(ReadOnlySpan<byte> data)
    {
        var reader = new RpcReader(data);
        int nodeId = reader.ReadInt32();
        string clusterId = reader.ReadString(Hello.MaxClusterIdBytes);
        var voters = reader.ReadInt32s(ClusterBootstrap.MaxSeeds);
        reader.End();
        if (nodeId <= 0 || clusterId.Length == 0 || voters.Length == 0 || voters.Any(v => v <= 0))
        {
            throw new RpcFormatException($"a join answer naming node {nodeId} of cluster '{clusterId}' and voters [{string.Join(',', voters)}] is not valid");
        }
        return new JoinReply(nodeId, clusterId, voters);
    }
}
