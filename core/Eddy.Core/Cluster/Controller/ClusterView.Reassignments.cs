namespace Eddy.Cluster;

/// <summary>Reassignments applied to the view: a partition's target replicas set, cancelled, and reached.</summary>
public sealed partial record ClusterView
{
    /// <summary>Why <paramref name="target"/> cannot be partition <paramref name="partition"/>'s new replicas, or null. A
    /// partition moves between Raft groups of at least two replicas: one with a single replica is no group, and one
    /// reassigned to a single replica would stop being one.</summary>
    public string? ReassignmentProblem(TopicInfo topic, int partition, int[] target, IReadOnlyList<int> voters)
    {
        if (partition < 0 || partition >= topic.PartitionCount || partition >= topic.Replicas.Count)
        {
            return $"topic '{topic.Name}' has no partition {partition}";
        }
        if (!topic.IsReplicated(partition))
        {
            return $"partition {partition} of '{topic.Name}' has a single replica; only replicated partitions move";
        }
        if (target.Length < 2 || target.Length > Raft.RaftOptions.MaxMembers)
        {
            return $"a replicated partition needs 2 to {Raft.RaftOptions.MaxMembers} replicas, not {target.Length}";
        }
        if (target.Distinct().Count() != target.Length)
        {
            return $"replicas [{string.Join(", ", target)}] name a node more than once";
        }
        var nodes = PlacementNodes(voters);
        foreach (int node in target)
        {
            if (Array.IndexOf(nodes, node) < 0)
            {
                return $"node {node} is not a node of the cluster";
            }
        }
        return null;
    }

    /// <summary>The topic with the targets <paramref name="proposed"/> sets: an empty one cancels (the partition goes back
    /// to its replicas, undoing what its leader already changed); one that cannot be is skipped (the proposer checked).</summary>
    private TopicInfo Reassigned(TopicInfo current, TopicInfo proposed, IReadOnlyList<int> voters)
    {
        var targets = TargetsOf(current);
        for (int p = 0; p < targets.Length; p++)
        {
            if (proposed.TargetOf(p) is not { } target)
            {
                continue;
            }
            if (target.Length == 0)
            {
                targets[p] = targets[p] is null ? null : current.Replicas[p];
            }
            else if (ReassignmentProblem(current, p, target, voters) is null)
            {
                targets[p] = target;
            }
        }
        return current with { Targets = Normalized(targets) };
    }

    /// <summary>The topic with each partition whose leader reached its target (the members <paramref name="proposed"/>
    /// names, in any order) given the target as its replicas; a report of a target replaced meanwhile is ignored.</summary>
    private static TopicInfo Completed(TopicInfo current, TopicInfo proposed)
    {
        var targets = TargetsOf(current);
        var replicas = current.Replicas.ToArray();
        for (int p = 0; p < targets.Length && p < replicas.Length; p++)
        {
            if (proposed.TargetOf(p) is { } reached && targets[p] is { } target && target.Order().SequenceEqual(reached.Order()))
            {
                replicas[p] = target;
                targets[p] = null;
            }
        }
        return current with { Replicas = replicas, Targets = Normalized(targets) };
    }

    private static int[]?[] TargetsOf(TopicInfo topic)
    {
        var targets = new int[]?[topic.PartitionCount];
        for (int p = 0; p < targets.Length; p++)
        {
            targets[p] = topic.TargetOf(p);
        }
        return targets;
    }

    /// <summary>
    /// A removed node's replicas of replicated partitions get a target without it: another node in its place, the one
    /// of the cluster's nodes not already a replica that holds the fewest replicas (ties to the lowest id), or none when
    /// every node is one already and two or more replicas remain. Each partition's leader then moves its group (its
    /// new replica catches up from the others), so the partition gets its replication factor back. A partition already
    /// moving keeps its target, less the removed node.
    /// </summary>
    private ClusterView WithReplicasMovedOff(int removed, IReadOnlyList<int> voters)
    {
        var nodes = PlacementNodes(voters);
        var holding = nodes.ToDictionary(n => n, _ => 0);
        foreach (var topic in Topics.Values)
        {
            for (int p = 0; p < topic.Replicas.Count; p++)
            {
                foreach (int node in topic.TargetOf(p) ?? topic.Replicas[p])
                {
                    if (holding.TryGetValue(node, out int held))
                    {
                        holding[node] = held + 1;
                    }
                }
            }
        }
        var view = this;
        foreach (var topic in Topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            int[]?[]? targets = null;
            for (int p = 0; p < topic.Replicas.Count && p < topic.PartitionCount; p++)
            {
                var now = topic.TargetOf(p) ?? topic.Replicas[p];
                if (!topic.IsReplicated(p) || Array.IndexOf(now, removed) < 0)
                {
                    continue;
                }
                var kept = now.Where(n => n != removed).ToArray();
                int replacement = nodes.Where(n => Array.IndexOf(now, n) < 0).OrderBy(n => holding[n]).ThenBy(n => n).FirstOrDefault();
                int[] target = replacement != 0 ? [.. kept, replacement] : kept;
                if (target.Length < 2)
                {
                    continue; // nothing to move to: the partition keeps what it has
                }
                if (replacement != 0)
                {
                    holding[replacement]++;
                }
                targets ??= TargetsOf(topic);
                targets[p] = target;
            }
            if (targets is not null)
            {
                view = view.With(topic with { Targets = Normalized(targets) }, view.NextRevision);
            }
        }
        return view;
    }

    /// <summary>No list at all when no partition is being reassigned, so an idle topic's record stays as it was.</summary>
    private static int[]?[] Normalized(int[]?[] targets) => targets.Any(t => t is not null) ? targets : [];
}
