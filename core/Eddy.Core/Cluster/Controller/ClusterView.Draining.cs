using System.Collections.Frozen;

namespace Eddy.Cluster;

/// <summary>Nodes being decommissioned: drained of their replicas while they still serve, then removed.</summary>
public sealed partial record ClusterView
{
    /// <summary>Nodes draining (<see cref="ControllerCommandType.DecommissionNode"/>): placement skips them, their
    /// replicated partitions are reassigned away, and the controller's leader removes each once it holds no replica.</summary>
    public FrozenSet<int> Draining { get; init; } = FrozenSet<int>.Empty;

    /// <summary>Why node <paramref name="nodeId"/> cannot start draining, or null. A node already draining can: the
    /// command changes nothing.</summary>
    public string? DecommissionProblem(int nodeId, IReadOnlyList<int> voters)
    {
        if (!NodeIds(voters).Contains(nodeId))
        {
            return $"node {nodeId} is not a member of this cluster";
        }
        if (!Draining.Contains(nodeId) && !PlacementNodes(voters).Any(n => n != nodeId))
        {
            return $"node {nodeId} is the last node that takes replicas";
        }
        return null;
    }

    /// <summary>What node <paramref name="nodeId"/> still holds: partition replicas (current or targeted) of replicated
    /// partitions, which its drain moves, and of partitions with a single replica, which only a reassignment to a
    /// replicated partition can move (a drain waits for them).</summary>
    public (int Replicated, int Single) ReplicasOn(int nodeId)
    {
        int replicated = 0, single = 0;
        foreach (var topic in Topics.Values)
        {
            for (int p = 0; p < topic.Replicas.Count; p++)
            {
                if (topic.HasReplicaOn(p, nodeId) && topic.IsReplicated(p))
                {
                    replicated++;
                }
                else if (topic.HasReplicaOn(p, nodeId))
                {
                    single++;
                }
            }
        }
        return (replicated, single);
    }

    private ClusterView ApplyDecommission(int nodeId, IReadOnlyList<int> voters)
    {
        if (Draining.Contains(nodeId) || DecommissionProblem(nodeId, voters) is not null)
        {
            return this;
        }
        return (this with { Draining = Draining.Append(nodeId).ToFrozenSet() }).WithReplicasMovedOff(nodeId, voters);
    }
}
