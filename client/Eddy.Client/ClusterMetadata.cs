using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Client;

/// <summary>What a Metadata answer said about the cluster: its brokers, its controller and the topics asked for.</summary>
public sealed class ClusterMetadata
{
    public ClusterMetadata(MetadataResponse response)
    {
        ClusterId = response.ClusterId;
        ControllerId = response.ControllerId;
        Brokers = response.Brokers.Select(b => new BrokerInfo(b.NodeId, b.Host, b.Port, b.Rack)).OrderBy(b => b.NodeId).ToList();
        Topics = response.Topics.Where(t => t.Name is not null).ToDictionary(t => t.Name!, t => new TopicInfo(
            t.Name!, t.ErrorCode, t.IsInternal, t.TopicId,
            t.Partitions.Select(p => new PartitionInfo(p.PartitionIndex, p.ErrorCode, p.LeaderId, p.LeaderEpoch, p.ReplicaNodes, p.IsrNodes))
                .OrderBy(p => p.Index).ToList()));
    }

    public string? ClusterId { get; }
    public int ControllerId { get; }
    public IReadOnlyList<BrokerInfo> Brokers { get; }
    public IReadOnlyDictionary<string, TopicInfo> Topics { get; }

    public BrokerInfo? Broker(int nodeId) => Brokers.FirstOrDefault(b => b.NodeId == nodeId);

    /// <summary>The topic, or a <see cref="KafkaException"/> naming why it is not there.</summary>
    public TopicInfo Topic(string name)
    {
        if (!Topics.TryGetValue(name, out var topic))
        {
            throw KafkaException.For($"topic {name}", Eddy.Errors.KafkaErrors.UnknownTopicOrPartition);
        }
        KafkaException.ThrowIfError($"topic {name}", topic.ErrorCode);
        return topic;
    }
}

public sealed record BrokerInfo(int NodeId, string Host, int Port, string? Rack);

public sealed record TopicInfo(string Name, short ErrorCode, bool IsInternal, Guid TopicId, IReadOnlyList<PartitionInfo> Partitions);

public sealed record PartitionInfo(int Index, short ErrorCode, int Leader, int LeaderEpoch, IReadOnlyList<int> Replicas, IReadOnlyList<int> Isr);
