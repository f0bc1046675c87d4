using Eddy.Rpc;

namespace Eddy.Cluster;

/// <summary>
/// A member of the cluster as the controller records it: its id, the addresses other parties are told to use, its
/// rack, its shard count, and the leader epoch its partitions lead in since it started (so that any node's Metadata
/// gives a partition's epoch). Registered by the node itself once its Kafka listener is up, and again whenever any of
/// it changes (the epoch does at every start).
/// </summary>
public sealed record BrokerInfo(int NodeId, string KafkaHost, int KafkaPort, string RpcHost, int RpcPort, string Rack, int Shards, int LeaderEpoch)
{
    /// <summary>Host names are bounded like Kafka's; the bound keeps a damaged command from allocating.</summary>
    public const int MaxHostBytes = 255;

    public void Write(RpcWriter writer)
    {
        writer.WriteInt32(NodeId);
        writer.WriteString(KafkaHost, MaxHostBytes);
        writer.WriteInt32(KafkaPort);
        writer.WriteString(RpcHost, MaxHostBytes);
        writer.WriteInt32(RpcPort);
        writer.WriteString(Rack, MaxHostBytes);
        writer.WriteInt32(Shards);
        writer.WriteInt32(LeaderEpoch);
    }

    public static BrokerInfo Read(ref RpcReader reader)
    {
        var info = new BrokerInfo(reader.ReadInt32(), reader.ReadString(MaxHostBytes), reader.ReadInt32(), reader.ReadString(MaxHostBytes),
            reader.ReadInt32(), reader.ReadString(MaxHostBytes), reader.ReadInt32(), reader.ReadInt32());
        if (info.NodeId <= 0 || info.KafkaPort is <= 0 or > 65535 || info.RpcPort is <= 0 or > 65535 || info.Shards <= 0 || info.LeaderEpoch < 0)
        {
            throw new RpcFormatException($"broker {info} is not valid");
        }
        return info;
    }
}
