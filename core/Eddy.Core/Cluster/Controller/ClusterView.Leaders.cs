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

    /// <summary>Takes the reports that name a replica of a partition of the topic's current incarnation in an epoch
    /// later than the one recorded; the others are stale (a later leader already reported) and ignored.</summary>
    private ClusterView ApplyLeaders(IReadOnlyList<PartitionLeader> reports)
    {
        Dictionary<(string, int), PartitionLeader>? changed = null;
        foreach (var report in reports)
        {
            if (!Topics.TryGetValue(report.Topic, out var topic) || topic.Id != report.TopicId || !topic.IsReplicated(report.Partition)
                || !topic.HasReplicaOn(report.Partition, report.Node))
            {
                continue;
            }
            var key = (report.Topic, report.Partition);
            var known = changed ?? (IReadOnlyDictionary<(string, int), PartitionLeader>)Leaders;
            if (known.TryGetValue(key, out var current) && current.TopicId == report.TopicId && current.Epoch >= report.Epoch)
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
