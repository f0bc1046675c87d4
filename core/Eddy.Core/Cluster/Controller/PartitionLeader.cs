using Eddy.Rpc;

namespace Eddy.Cluster;

/// <summary>
/// A replicated partition's leader as its Raft group elected it, reported by that leader to the controller so that every
/// node's Metadata names it: the topic (name and id, so a report for a deleted incarnation is ignored), the partition,
/// the leading node and its term, which is the partition's Kafka leader epoch.
/// </summary>
public readonly record struct PartitionLeader(string Topic, Guid TopicId, int Partition, int Node, int Epoch)
{
    /// <summary>Reports one command may carry: bounds the work of one apply.</summary>
    public const int MaxPerCommand = 4096;

    private const int MinBytes = 2 + 4 + 16 + 4 + 4 + 4;

    public void Write(RpcWriter writer)
    {
        writer.WriteString(Topic, TopicNames.MaxLength);
        writer.WriteBytes(TopicId.ToByteArray(bigEndian: true));
        writer.WriteInt32(Partition);
        writer.WriteInt32(Node);
        writer.WriteInt32(Epoch);
    }

    public static PartitionLeader Read(ref RpcReader reader)
    {
        string topic = reader.ReadString(TopicNames.MaxLength);
        var id = reader.ReadBytes();
        int partition = reader.ReadInt32();
        int node = reader.ReadInt32();
        int epoch = reader.ReadInt32();
        if (id.Length != 16 || partition < 0 || node <= 0 || epoch < 0)
        {
            throw new RpcFormatException($"partition {partition} of '{topic}' led by node {node} in epoch {epoch} is not valid");
        }
        return new PartitionLeader(topic, new Guid(id, bigEndian: true), partition, node, epoch);
    }

    public static void WriteAll(RpcWriter writer, IReadOnlyList<PartitionLeader> leaders)
    {
        writer.WriteInt32(leaders.Count);
        foreach (var leader in leaders)
        {
            leader.Write(writer);
        }
    }

    public static PartitionLeader[] ReadAll(ref RpcReader reader, int maxCount)
    {
        int count = reader.ReadCount(MinBytes);
        if (count > maxCount)
        {
            throw new RpcFormatException($"{count} partition leaders, at most {maxCount}");
        }
        var leaders = new PartitionLeader[count];
        for (int i = 0; i < count; i++)
        {
            leaders[i] = Read(ref reader);
        }
        return leaders;
    }
}
