using System.Collections.Frozen;

namespace Eddy.Cluster;

/// <summary>Replicated partitions' elected leaders, as their leaders reported them (<see cref="PartitionLeader"/>).</summary>
public sealed partial record ClusterView
{
    /// <summary>Each replicated partition's last reported leader and epoch, by topic name and partition.</summary>
    public FrozenDictionary<(string Topic, int Partition), PartitionLeader> Leaders { get; init; } =
        FrozenDictionary<(string Topic, int Partition), PartitionLeader>.Empty;

    /// <summary>
    /// Who leads partition <paramref name="partition"/> of <paramref name="topic"/>, and in which epoch: a partition with
    /// one replica is led by it, in the epoch that node registered (-1 until it has); a replicated one by the leader
    /// its group last reported, (0, -1) until one has.
    /// </summary>
    public (int Node, int Epoch) LeaderOf(TopicInfo topic, int partition)
    {
        if (!topic.IsReplicated(partition))
        {
            int node = topic.LeaderOf(partition);
            return (node, Broker(node)?.LeaderEpoch ?? -1);
        }
        return Leaders.TryGetValue((topic.Name, partition), out var leader) && leader.TopicId == topic.Id ? (leader.Node, leader.Epoch) : (0, -1);
    }

    /// <summary>The replicas in sync with partition <paramref name="partition"/>'s leader: as its leader last reported for
    /// a replicated partition, else every replica (one replica is always in sync with itself).</summary>
    public int[] InSyncOf(TopicInfo topic, int partition)
    {
        if (topic.IsReplicated(partition) && Leaders.TryGetValue((topic.Name, partition), out var leader) && leader.TopicId == topic.Id)
        {
            return leader.Isr;
        }
        return partition < topic.Replicas.Count ? topic.Replicas[partition] : [];
    }

    /// <summary>Takes the reports that name replicas of a partition of the topic's current incarnation, in an epoch later
    /// than the one recorded, or in the same epoch from the same leader with another isr; the others are stale (a later
    /// leader already reported) and ignored.</summary>
    private ClusterView ApplyLeaders(IReadOnlyList<PartitionLeader> reports)
    {
        Dictionary<(string, int), PartitionLeader>? changed = null;
        foreach (var report in reports)
        {
            if (!Topics.TryGetValue(report.Topic, out var topic) || topic.Id != report.TopicId || !topic.IsReplicated(report.Partition)
                || !report.Isr.All(node => topic.HasReplicaOn(report.Partition, node)))
            {
                continue;
            }
            var key = (report.Topic, report.Partition);
            var known = changed ?? (IReadOnlyDictionary<(string, int), PartitionLeader>)Leaders;
            if (known.TryGetValue(key, out var current) && current.TopicId == report.TopicId && (current.Epoch > report.Epoch
                || (current.Epoch == report.Epoch && (current.Node != report.Node || current.Isr.AsSpan().SequenceEqual(report.Isr)))))
            {
                continue;
            }
            changed ??= new Dictionary<(string, int), PartitionLeader>(Leaders);
            changed[key] = report;
        }
        return changed is null ? this : this with { Leaders = changed.ToFrozenDictionary() };
    }

    private FrozenDictionary<(string Topic, int Partition), PartitionLeader> LeadersWithout(string topic)
        => Leaders.Keys.Any(k => k.Topic == topic) ? Leaders.Where(l => l.Key.Topic != topic).ToFrozenDictionary() : Leaders;
}
