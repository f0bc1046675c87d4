using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>
/// Sends work for a partition to where the partition lives: its owner shard on this node (with replication, the
/// leader's node for what only the leader may do). Requests fan out through <see cref="FanOut{TOutcome}"/>; a single
/// partition's work goes through <see cref="OnPartitionAsync{T}"/>. Safe from any shard.
/// </summary>
public sealed class PartitionRouter
{
    private readonly TopicTable _table;
    private readonly PartitionReconciler _partitions;

    internal PartitionRouter(TopicTable table, PartitionReconciler partitions)
    {
        _table = table;
        _partitions = partitions;
    }

    /// <summary>Every topic now (the table's snapshot).</summary>
    public TopicsSnapshot Topics => _table.Topics;

    /// <summary>This node's broker options (topic config defaults among them).</summary>
    public BrokerOptions Options => _table.Options;

    /// <summary>Topic configs' defaults now (the cluster's, else this node's). Any thread.</summary>
    public TopicDefaults TopicDefaults => _table.TopicDefaults;

    /// <summary>The leader epoch of every partition this node leads (Metadata answers it without visiting the shards).</summary>
    public int LeaderEpoch => _table.LeaderEpoch;

    public int ShardOf(string topic, int partition) => _partitions.ShardOf(topic, partition);

    /// <summary>This node's id: a partition whose leader is another node is not served here.</summary>
    public int NodeId => _table.NodeId;

    /// <summary>The cluster's brokers and controller, for answers that name other nodes.</summary>
    public Controller Controller => _table.Controller;

    /// <summary>The node's shards (partitions are placed on 0 to this less one).</summary>
    public int ShardCount => _partitions.ShardCount;

    /// <summary>The partition when the calling shard owns it and it is open.</summary>
    public bool TryGetLocal(string topic, int partition, out Partition found)
    {
        var shard = Shard.Current ?? throw new InvalidOperationException("partitions are reached from their shard");
        return _partitions.On(shard.Id).TryGet(topic, partition, out found) && !found.IsClosed;
    }

    /// <summary>This shard's open partitions.</summary>
    public IEnumerable<Partition> LocalPartitions
        => _partitions.On((Shard.Current ?? throw new InvalidOperationException("partitions are reached from their shard")).Id).All.Where(static p => !p.IsClosed);

    /// <summary>Has <paramref name="observer"/> told, on the partition's shard, whenever a replicated partition on this
    /// node starts or stops serving as its leader (<see cref="Partition.IsLeader"/>). One observer per node: the group
    /// coordinators, which follow the leadership of the `__consumer_offsets` partitions. Changes before the call are not
    /// told: look at the partitions once after setting it.</summary>
    public void WatchLeadership(Action<Partition> observer) => _partitions.WatchLeadership(observer);

    /// <summary>Runs <paramref name="work"/> with the partition on its shard; <paramref name="missing"/> when that shard
    /// does not have it open (deleted or closed since the caller looked the topic up).</summary>
    public ValueTask<T> OnPartitionAsync<T>(string topic, int partition, Func<Partition, ValueTask<T>> work, T missing)
        => Smp.SubmitTo(ShardOf(topic, partition), () => TryGetLocal(topic, partition, out var found) ? work(found) : new ValueTask<T>(missing));

    /// <summary>A fan-out for one request's partitions; <paramref name="failed"/> makes the outcome of a partition that
    /// gets an error code (with a message or null) instead of its work's outcome.</summary>
    public PartitionFanOut<TOutcome> FanOut<TOutcome>(Func<short, string?, TOutcome> failed) => new(this, failed);
}
