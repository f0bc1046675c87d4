using Eddy.Rpc;

namespace Eddy.Cluster;

/// <summary>What a controller command does. Numbers are stored in the controller log: never reuse one.</summary>
public enum ControllerCommandType : byte
{
    /// <summary>The cluster formed: its id. Applied once; a later one is ignored.</summary>
    CreateCluster = 1,

    /// <summary>A node joined, or its addresses, rack or shard count changed.</summary>
    RegisterBroker = 2,

    /// <summary>A new topic (name, id, partition count, replication factor, configs); applying it assigns its revision
    /// and places its partitions. Ignored when the name is taken.</summary>
    CreateTopic = 3,

    /// <summary>The topic of that name and id goes, with its data.</summary>
    DeleteTopic = 4,

    /// <summary>The topic of that name and id grows to the given partition count; the new partitions are placed.</summary>
    CreatePartitions = 5,

    /// <summary>The topic of that name and id gets the given config overrides in place of its old ones.</summary>
    AlterTopicConfigs = 6,

    /// <summary>A node reserves the next block of producer ids (of the given size) for InitProducerId: blocks are
    /// cluster-wide, so no two nodes ever hand out the same id.</summary>
    ReserveProducerIds = 7,

    /// <summary>A node not among the seeds joins: it gets the id it asked for, or the next free one, unless the id is
    /// owned by another node (<see cref="JoinRequest"/>).</summary>
    JoinNode = 8,

    /// <summary>A node leaves the cluster for good (Kafka's UnregisterBroker): it is no broker, placement skips it, the
    /// controller group drops it, and its id is never given out again nor accepted back.</summary>
    RemoveNode = 9,

    /// <summary>Replicated partitions' leaders report themselves: each partition's leader and epoch, taken when the
    /// epoch is later than the one recorded (<see cref="PartitionLeader"/>).</summary>
    ReportLeaders = 10,

    /// <summary>Partitions of the topic of that name and id get new target replicas (the topic's <see cref="TopicInfo.Targets"/>,
    /// where set): each partition's leader moves its group to them. An empty target cancels: the partition goes back
    /// to the replicas it had.</summary>
    ReassignPartitions = 11,

    /// <summary>A partition's leader reached its target (the topic's <see cref="TopicInfo.Targets"/> name the members
    /// it reached): the target becomes its replicas, taken only when it is still the target recorded.</summary>
    CompleteReassignment = 12,

    /// <summary>Cluster properties set (name and value) and removed (names): the cluster's config gets them and its
    /// version goes up by one (<see cref="ClusterView.Config"/>).</summary>
    SetClusterConfig = 13,

    /// <summary>A node starts draining (the admin API's decommission): placement skips it, and each replicated
    /// partition with a replica on it is reassigned to the other nodes; once it holds no replica, the controller's
    /// leader removes it (<see cref="RemoveNode"/>).</summary>
    DecommissionNode = 14,

    /// <summary>A draining node stops draining (the moves already made stay).</summary>
    RecommissionNode = 15,
}

/// <summary>
/// One entry of the controller's Raft log: a change to the cluster's metadata, applied in log order on every node.
/// Encoded as a type byte, a version byte (0) and the type's fields; a command this version does not know is skipped
/// by every node of this version alike, with an error logged.
/// </summary>
public readonly record struct ControllerCommand(ControllerCommandType Type, string ClusterId, BrokerInfo? Broker, TopicInfo? Topic, int NodeId = 0, int Count = 0,
    JoinRequest? Join = null, IReadOnlyList<PartitionLeader>? Leaders = null, IReadOnlyList<KeyValuePair<string, string>>? Upserts = null,
    IReadOnlyList<string>? Removes = null)
{
    /// <summary>The largest producer id block one command reserves.</summary>
    public const int MaxProducerIdBlock = 1_000_000;

    private const byte Version = 0;

    public static ControllerCommand CreateCluster(string clusterId) => new(ControllerCommandType.CreateCluster, clusterId, null, null);

    public static ControllerCommand RegisterBroker(BrokerInfo broker) => new(ControllerCommandType.RegisterBroker, "", broker, null);

    /// <summary>A topic command: <paramref name="topic"/> names the topic (name and id) and carries what the command
    /// sets (the new topic, the new partition count, the new configs).</summary>
    public static ControllerCommand ForTopic(ControllerCommandType type, TopicInfo topic) => new(type, "", null, topic);

    public static ControllerCommand ReserveProducerIds(int nodeId, int count) => new(ControllerCommandType.ReserveProducerIds, "", null, null, nodeId, count);

    public static ControllerCommand JoinNode(JoinRequest join) => new(ControllerCommandType.JoinNode, "", null, null, Join: join);

    public static ControllerCommand RemoveNode(int nodeId) => new(ControllerCommandType.RemoveNode, "", null, null, nodeId);

    public static ControllerCommand DecommissionNode(int nodeId) => new(ControllerCommandType.DecommissionNode, "", null, null, nodeId);

    public static ControllerCommand RecommissionNode(int nodeId) => new(ControllerCommandType.RecommissionNode, "", null, null, nodeId);

    public static ControllerCommand ReportLeaders(IReadOnlyList<PartitionLeader> leaders) => new(ControllerCommandType.ReportLeaders, "", null, null, Leaders: leaders);

    public static ControllerCommand SetClusterConfig(IReadOnlyList<KeyValuePair<string, string>> upserts, IReadOnlyList<string> removes)
        => new(ControllerCommandType.SetClusterConfig, "", null, null, Upserts: upserts, Removes: removes);

    public byte[] Encode()
    {
        var writer = new RpcWriter();
        writer.WriteByte((byte)Type);
        writer.WriteByte(Version);
        switch (Type)
        {
            case ControllerCommandType.CreateCluster:
                writer.WriteString(ClusterId, Hello.MaxClusterIdBytes);
                break;
            case ControllerCommandType.RegisterBroker:
                Broker!.Write(writer);
                break;
            case ControllerCommandType.CreateTopic or ControllerCommandType.DeleteTopic or ControllerCommandType.CreatePartitions or ControllerCommandType.AlterTopicConfigs
                or ControllerCommandType.ReassignPartitions or ControllerCommandType.CompleteReassignment:
                writer.WriteBytes(TopicRecord.Encode(Topic!));
                break;
            case ControllerCommandType.ReserveProducerIds:
                writer.WriteInt32(NodeId);
                writer.WriteInt32(Count);
                break;
            case ControllerCommandType.JoinNode:
                Join!.Write(writer);
                break;
            case ControllerCommandType.RemoveNode or ControllerCommandType.DecommissionNode or ControllerCommandType.RecommissionNode:
                writer.WriteInt32(NodeId);
                break;
            case ControllerCommandType.ReportLeaders:
                PartitionLeader.WriteAll(writer, Leaders!);
                break;
            case ControllerCommandType.SetClusterConfig:
                writer.WriteInt32(Upserts!.Count);
                foreach (var (name, value) in Upserts)
                {
                    writer.WriteString(name, ClusterProperties.MaxNameBytes);
                    writer.WriteString(value, ClusterProperties.MaxValueBytes);
                }
                writer.WriteInt32(Removes!.Count);
                foreach (string name in Removes)
                {
                    writer.WriteString(name, ClusterProperties.MaxNameBytes);
                }
                break;
            default:
                throw new InvalidOperationException($"unknown controller command {Type}");
        }
        return writer.Written.ToArray();
    }

    /// <summary>Decodes a command; throws <see cref="RpcFormatException"/> for one this version cannot read.</summary>
    public static ControllerCommand Decode(ReadOnlySpan<byte> data)
    {
        var reader = new RpcReader(data);
        var type = (ControllerCommandType)reader.ReadByte();
        byte version = reader.ReadByte();
        if (version != Version)
        {
            throw new RpcFormatException($"controller command {type} version {version}, this node reads {Version}");
        }
        var command = type switch
        {
            ControllerCommandType.CreateCluster => CreateCluster(reader.ReadString(Hello.MaxClusterIdBytes)),
            ControllerCommandType.RegisterBroker => RegisterBroker(BrokerInfo.Read(ref reader)),
            ControllerCommandType.CreateTopic or ControllerCommandType.DeleteTopic or ControllerCommandType.CreatePartitions or ControllerCommandType.AlterTopicConfigs
                or ControllerCommandType.ReassignPartitions or ControllerCommandType.CompleteReassignment
                => ForTopic(type, ReadTopic(reader.ReadBytes())),
            ControllerCommandType.ReserveProducerIds => ReadReservation(ref reader),
            ControllerCommandType.JoinNode => JoinNode(JoinRequest.Read(ref reader)),
            ControllerCommandType.RemoveNode => RemoveNode(ReadNodeId(ref reader)),
            ControllerCommandType.DecommissionNode => DecommissionNode(ReadNodeId(ref reader)),
            ControllerCommandType.RecommissionNode => RecommissionNode(ReadNodeId(ref reader)),
            ControllerCommandType.ReportLeaders => ReportLeaders(PartitionLeader.ReadAll(ref reader, PartitionLeader.MaxPerCommand)),
            ControllerCommandType.SetClusterConfig => ReadConfigChange(ref reader),
            _ => throw new RpcFormatException($"unknown controller command type {(byte)type}"),
        };
        reader.End();
        return command;
    }

    private static ControllerCommand ReadConfigChange(ref RpcReader reader)
    {
        int upsertCount = reader.ReadCount(4);
        if (upsertCount > ClusterProperties.MaxEntries)
        {
            throw new RpcFormatException($"{upsertCount} cluster properties set in one command, at most {ClusterProperties.MaxEntries}");
        }
        var upserts = new KeyValuePair<string, string>[upsertCount];
        for (int i = 0; i < upsertCount; i++)
        {
            upserts[i] = new(reader.ReadString(ClusterProperties.MaxNameBytes), reader.ReadString(ClusterProperties.MaxValueBytes));
        }
        int removeCount = reader.ReadCount(2);
        if (removeCount > ClusterProperties.MaxEntries)
        {
            throw new RpcFormatException($"{removeCount} cluster properties removed in one command, at most {ClusterProperties.MaxEntries}");
        }
        var removes = new string[removeCount];
        for (int i = 0; i < removeCount; i++)
        {
            removes[i] = reader.ReadString(ClusterProperties.MaxNameBytes);
        }
        return SetClusterConfig(upserts, removes);
    }

    private static int ReadNodeId(ref RpcReader reader)
    {
        int node = reader.ReadInt32();
        return node > 0 ? node : throw new RpcFormatException($"node id {node} is not valid");
    }

    private static ControllerCommand ReadReservation(ref RpcReader reader)
    {
        int node = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (node <= 0 || count is <= 0 or > MaxProducerIdBlock)
        {
            throw new RpcFormatException($"a reservation of {count} producer ids for node {node} is not valid");
        }
        return ReserveProducerIds(node, count);
    }

    private static TopicInfo ReadTopic(byte[] record)
    {
        try
        {
            var topic = TopicRecord.Decode(record);
            if (!TopicNames.IsValid(topic.Name))
            {
                throw new RpcFormatException($"'{topic.Name}' is not a valid topic name");
            }
            return topic;
        }
        catch (Exception e) when (e is InvalidDataException or OverflowException)
        {
            throw new RpcFormatException($"the topic in a controller command cannot be read: {e.Message}");
        }
    }
}
