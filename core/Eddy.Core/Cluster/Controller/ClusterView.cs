using Eddy.Rpc;

namespace Eddy.Cluster;

/// <summary>
/// The controller's applied state, immutable: the cluster id and its brokers, in node id order. A new view is
/// published after each applied command, so request handlers on any shard read it without locks. It is also the
/// controller's snapshot: <see cref="Encode"/> and <see cref="Decode"/>.
/// </summary>
public sealed class ClusterView
{
    private const byte SnapshotVersion = 0;

    /// <summary>Brokers a cluster may have; bounds a snapshot's count before it allocates.</summary>
    public const int MaxBrokers = 1024;

    public static readonly ClusterView Empty = new("", []);

    public ClusterView(string clusterId, IReadOnlyList<BrokerInfo> brokers)
    {
        ClusterId = clusterId;
        Brokers = brokers;
    }

    /// <summary>Empty until the cluster has formed.</summary>
    public string ClusterId { get; }

    public IReadOnlyList<BrokerInfo> Brokers { get; }

    public BrokerInfo? Broker(int nodeId)
    {
        foreach (var broker in Brokers)
        {
            if (broker.NodeId == nodeId)
            {
                return broker;
            }
        }
        return null;
    }

    /// <summary>The view after <paramref name="command"/>; the same view when it changes nothing.</summary>
    public ClusterView Apply(ControllerCommand command)
    {
        switch (command.Type)
        {
            case ControllerCommandType.CreateCluster when ClusterId.Length == 0:
                return new ClusterView(command.ClusterId, Brokers);
            case ControllerCommandType.RegisterBroker when Broker(command.Broker!.NodeId) != command.Broker && Brokers.Count < MaxBrokers:
                var brokers = Brokers.Where(b => b.NodeId != command.Broker.NodeId).Append(command.Broker).OrderBy(b => b.NodeId).ToArray();
                return new ClusterView(ClusterId, brokers);
            default:
                return this;
        }
    }

    public byte[] Encode()
    {
        var writer = new RpcWriter();
        writer.WriteByte(SnapshotVersion);
        writer.WriteString(ClusterId, Hello.MaxClusterIdBytes);
        writer.WriteInt32(Brokers.Count);
        foreach (var broker in Brokers)
        {
            broker.Write(writer);
        }
        return writer.Written.ToArray();
    }

    /// <summary>Reads a snapshot back; throws <see cref="RpcFormatException"/> on a damaged or unknown one.</summary>
    public static ClusterView Decode(ReadOnlySpan<byte> data)
    {
        var reader = new RpcReader(data);
        byte version = reader.ReadByte();
        if (version != SnapshotVersion)
        {
            throw new RpcFormatException($"controller snapshot version {version}, this node reads {SnapshotVersion}");
        }
        string clusterId = reader.ReadString(Hello.MaxClusterIdBytes);
        int count = reader.ReadCount(4 * 4 + 2 * 3);
        if (count > MaxBrokers)
        {
            throw new RpcFormatException($"{count} brokers in a controller snapshot, at most {MaxBrokers}");
        }
        var brokers = new BrokerInfo[count];
        for (int i = 0; i < count; i++)
        {
            brokers[i] = BrokerInfo.Read(ref reader);
        }
        reader.End();
        return new ClusterView(clusterId, brokers);
    }
}
