using System.Collections.Frozen;
using Eddy.Rpc;

namespace Eddy.Cluster;

/// <summary>
/// The controller's applied state, immutable: the cluster id and its brokers, in node id order. A new view is
/// published after each applied command, so request handlers on any shard read it without locks. It is also the
/// controller's snapshot: <see cref="Encode"/> and <see cref="Decode"/>.
/// </summary>
public sealed partial record ClusterView
{
    // Version 1 added the removed nodes, version 2 the partition leaders, version 3 the cluster config, version 4 the
    // draining nodes; older snapshots are read as having none.
    private const byte SnapshotVersion = 4;

    /// <summary>Brokers a cluster may have; bounds a snapshot's count before it allocates.</summary>
    public const int MaxBrokers = 1024;

    /// <summary>Nodes a cluster may remove over its life (their ids stay taken); bounds a snapshot's count too.</summary>
    public const int MaxRemovedNodes = 1 << 16;

    public static readonly ClusterView Empty = new("", [], FrozenDictionary<string, TopicInfo>.Empty, 1, 0, FrozenDictionary<int, long>.Empty,
        FrozenDictionary<int, JoinRequest>.Empty);

    public ClusterView(string clusterId, IReadOnlyList<BrokerInfo> brokers, FrozenDictionary<string, TopicInfo> topics, long nextRevision,
        long nextProducerId, FrozenDictionary<int, long> producerIdBlocks, FrozenDictionary<int, JoinRequest> joined)
    {
        Joined = joined;
        ClusterId = clusterId;
        Brokers = brokers;
        Topics = topics;
        NextRevision = nextRevision;
        NextProducerId = nextProducerId;
        ProducerIdBlocks = producerIdBlocks;
    }

    /// <summary>The nodes that joined after the cluster formed, by the id they got: where their RPC listener is, and
    /// the token they joined with.</summary>
    public FrozenDictionary<int, JoinRequest> Joined { get; init; }

    /// <summary>The first producer id no node has reserved yet.</summary>
    public long NextProducerId { get; init; }

    /// <summary>Each node's last reserved block of producer ids: its first id (the block's size is the node's to know).</summary>
    public FrozenDictionary<int, long> ProducerIdBlocks { get; init; }

    /// <summary>Empty until the cluster has formed.</summary>
    public string ClusterId { get; init; }

    public IReadOnlyList<BrokerInfo> Brokers { get; init; }

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

    /// <summary>Nodes removed from the cluster (<see cref="ControllerCommandType.RemoveNode"/>): their ids stay taken.</summary>
    public FrozenSet<int> Removed { get; init; } = FrozenSet<int>.Empty;

    /// <summary>Every topic, by name, with its placement.</summary>
    public FrozenDictionary<string, TopicInfo> Topics { get; init; }

    /// <summary>The revision the next created topic gets: unique per creation, so a topic deleted and created again
    /// under its name gets new partition directories.</summary>
    public long NextRevision { get; init; }

    /// <summary>The view after <paramref name="command"/>; the same view when it changes nothing. Deterministic: every
    /// node applies the same commands to the same view and gets the same result, placement included.
    /// <paramref name="voters"/> are the controller's voters, which partitions may be placed on before they register.</summary>
    public ClusterView Apply(ControllerCommand command, IReadOnlyList<int> voters)
    {
        switch (command.Type)
        {
            case ControllerCommandType.CreateCluster when ClusterId.Length == 0:
                return this with { ClusterId = command.ClusterId };
            case ControllerCommandType.RegisterBroker when Broker(command.Broker!.NodeId) != command.Broker && Brokers.Count < MaxBrokers
                && !Removed.Contains(command.Broker.NodeId):
                var brokers = Brokers.Where(b => b.NodeId != command.Broker.NodeId).Append(command.Broker).OrderBy(b => b.NodeId).ToArray();
                return this with { Brokers = brokers };
            case ControllerCommandType.CreateTopic:
            case ControllerCommandType.DeleteTopic:
            case ControllerCommandType.CreatePartitions:
            case ControllerCommandType.AlterTopicConfigs:
            case ControllerCommandType.ReassignPartitions:
            case ControllerCommandType.CompleteReassignment:
                return ApplyTopicChange(command.Type, command.Topic!, voters);
            case ControllerCommandType.ReserveProducerIds when NextProducerId <= long.MaxValue - command.Count:
                var blocks = new Dictionary<int, long>(ProducerIdBlocks) { [command.NodeId] = NextProducerId };
                return this with { NextProducerId = NextProducerId + command.Count, ProducerIdBlocks = blocks.ToFrozenDictionary() };
            case ControllerCommandType.JoinNode:
                return ApplyJoin(command.Join!, voters);
            case ControllerCommandType.ReportLeaders:
                return ApplyLeaders(command.Leaders!);
            case ControllerCommandType.SetClusterConfig:
                return ApplyConfigChange(command.Upserts!, command.Removes!);
            case ControllerCommandType.RemoveNode when NodeIds(voters).Contains(command.NodeId) && NodeIds(voters).Count() > 1
                && Removed.Count < MaxRemovedNodes:
                return (this with
                {
                    Removed = Removed.Append(command.NodeId).ToFrozenSet(),
                    Brokers = Brokers.Where(b => b.NodeId != command.NodeId).ToArray(),
                    Draining = Draining.Where(n => n != command.NodeId).ToFrozenSet(),
                }).WithReplicasMovedOff(command.NodeId, voters);
            case ControllerCommandType.DecommissionNode:
                return ApplyDecommission(command.NodeId, voters);
            case ControllerCommandType.RecommissionNode when Draining.Contains(command.NodeId):
                return this with { Draining = Draining.Where(n => n != command.NodeId).ToFrozenSet() };
            default:
                return this;
        }
    }

    /// <summary>Every node of the cluster: the controller's first voters, the nodes that joined and the registered
    /// brokers, less the removed ones.</summary>
    public IEnumerable<int> NodeIds(IReadOnlyList<int> voters) =>
        voters.Concat(Joined.Keys).Concat(Brokers.Select(b => b.NodeId)).Distinct().Where(id => !Removed.Contains(id));

    /// <summary>The id a join with <paramref name="token"/> got, or 0.</summary>
    public int JoinedAs(Guid token) => Joined.Values.FirstOrDefault(j => j.Token == token)?.NodeId ?? 0;

    private ClusterView ApplyJoin(JoinRequest join, IReadOnlyList<int> voters)
    {
        if (JoinedAs(join.Token) != 0)
        {
            return this; // asked again after a lost answer: it keeps the id it got
        }
        var used = NodeIds(voters).Concat(Removed).ToHashSet(); // a removed node's id is never given out again
        if (join.NodeId != 0 && used.Contains(join.NodeId))
        {
            return this; // owned by another node
        }
        int id = join.NodeId != 0 ? join.NodeId : used.Max() + 1;
        var joined = new Dictionary<int, JoinRequest>(Joined) { [id] = join with { NodeId = id } };
        return this with { Joined = joined.ToFrozenDictionary() };
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
        writer.WriteInt64(NextRevision);
        writer.WriteInt64(NextProducerId);
        writer.WriteInt32(ProducerIdBlocks.Count);
        foreach (var (node, first) in ProducerIdBlocks.OrderBy(b => b.Key))
        {
            writer.WriteInt32(node);
            writer.WriteInt64(first);
        }
        writer.WriteInt32(Joined.Count);
        foreach (var (_, joined) in Joined.OrderBy(j => j.Key))
        {
            joined.Write(writer);
        }
        writer.WriteInt32s([.. Removed.Order()]);
        writer.WriteInt32(Topics.Count);
        foreach (var topic in Topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            writer.WriteBytes(TopicRecord.Encode(topic));
        }
        PartitionLeader.WriteAll(writer, [.. Leaders.Values.OrderBy(l => l.Topic, StringComparer.Ordinal).ThenBy(l => l.Partition)]);
        WriteConfig(writer);
        writer.WriteInt32s([.. Draining.Order()]);
        return writer.Written.ToArray();
    }

    /// <summary>Reads a snapshot back; throws <see cref="RpcFormatException"/> on a damaged or unknown one.</summary>
    public static ClusterView Decode(ReadOnlySpan<byte> data)
    {
        var reader = new RpcReader(data);
        byte version = reader.ReadByte();
        if (version > SnapshotVersion)
        {
            throw new RpcFormatException($"controller snapshot version {version}, this node reads {SnapshotVersion}");
        }
        string clusterId = reader.ReadString(Hello.MaxClusterIdBytes);
        int count = reader.ReadCount(5 * 4 + 2 * 3);
        if (count > MaxBrokers)
        {
            throw new RpcFormatException($"{count} brokers in a controller snapshot, at most {MaxBrokers}");
        }
        var brokers = new BrokerInfo[count];
        for (int i = 0; i < count; i++)
        {
            brokers[i] = BrokerInfo.Read(ref reader);
        }
        long nextRevision = reader.ReadInt64();
        long nextProducerId = reader.ReadInt64();
        int blockCount = reader.ReadCount(12);
        var blocks = new Dictionary<int, long>(blockCount);
        for (int i = 0; i < blockCount; i++)
        {
            blocks[reader.ReadInt32()] = reader.ReadInt64();
        }
        int joinedCount = reader.ReadCount(4 + 2 + 4 + 4 + 16);
        var joined = new Dictionary<int, JoinRequest>(joinedCount);
        for (int i = 0; i < joinedCount; i++)
        {
            var node = JoinRequest.Read(ref reader);
            joined[node.NodeId] = node;
        }
        var removed = version >= 1 ? reader.ReadInt32s(MaxRemovedNodes) : [];
        int topicCount = reader.ReadCount(4);
        var topics = new List<TopicInfo>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            topics.Add(DecodeTopic(reader.ReadBytes()));
        }
        var leaders = version >= 2 ? PartitionLeader.ReadAll(ref reader, int.MaxValue) : [];
        var (configVersion, config) = version >= 3 ? ReadConfig(ref reader) : (0, FrozenDictionary<string, string>.Empty);
        var draining = version >= 4 ? reader.ReadInt32s(MaxBrokers) : [];
        reader.End();
        return new ClusterView(clusterId, brokers, topics.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal), nextRevision, nextProducerId, blocks.ToFrozenDictionary(),
            joined.ToFrozenDictionary())
        {
            Removed = removed.ToFrozenSet(),
            Leaders = leaders.ToFrozenDictionary(l => (l.Topic, l.Partition)),
            ConfigVersion = configVersion,
            Config = config,
            Draining = draining.ToFrozenSet(),
        };
    }
}
