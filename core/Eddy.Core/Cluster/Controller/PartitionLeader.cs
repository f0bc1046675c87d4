using Eddy.Rpc;

namespace Eddy.Cluster;

/// <summary>
/// A replicated partition's leader as its Raft group elected it, reported by that leader to the controller so that every
/// node's Metadata names it: the topic (name and id, so a report for a deleted incarnation is ignored), the partition,
/// the leading node, its term (the partition's Kafka leader epoch) and the replicas in sync with it, sorted (Kafka's isr).
/// </summary>
public readonly record struct PartitionLeader(string Topic, Guid TopicId, int Partition, int Node, int Epoch, int[] Isr)
{
    /// <summary>Reports one command may carry: bounds the work of one apply.</summary>
    public const int MaxPerCommand = 4096;

    private const int MinBytes = 2 + 4 + 16 + 4 + 4 + 4 + 4;

    public void Write(RpcWriter writer)
    {
        writer.WriteString(Topic, TopicNames.MaxLength);
        writer.WriteBytes(TopicId.ToByteArray(bigEndian: true));
        writer.WriteInt32(Partition);
        writer.WriteInt32(Node);
        writer.WriteInt32(Epoch);
        writer.WriteInt32s(Isr);
    }

    public static PartitionLeader Read(ref RpcReader reader)
    {
        string topic = reader.ReadString(TopicNames.MaxLength);
        var id = reader.ReadBytes();
        int partition = reader.ReadInt32();
        int node = reader.ReadInt32();
        int epoch = reader.ReadInt32();
        var isr = reader.ReadInt32s(Raft.RaftOptions.MaxMembers);
        if (id.Length != 16 || partition < 0 || node <= 0 || epoch < 0 || Array.IndexOf(isr, node) < 0)
        {
            throw new RpcFormatException($"partition {partition} of '{topic}' led by node {node} in epoch {epoch} with isr [{string.Join(',', isr)}] is not valid");
        }
        return new PartitionLeader(topic, new Guid(id, bigEndian: true), partition, node, epoch, isr);
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
