using Eddy.Observability;
using Eddy.Raft;
using Eddy.Runtime;

namespace Eddy.Cluster;

// Reassignments: each leader here moves its group to its partition's target replicas, one single-server step at a time,
// then tells the controller, which makes the target the partition's replicas (docs/replication.md, "Moving replicas").
internal sealed partial class ShardReplicas
{
    private bool _completing; // one CompleteReassignment of this shard in flight at a time

    /// <summary>
    /// Takes the next step for every group led here whose partition has a target, once its last membership change is
    /// committed: a learner the target does not name is removed; a target node not yet a member is added as a learner
    /// (it catches up from this leader's log); a learner that answers and holds everything committed is promoted; then
    /// each voter the target does not name is removed, this leader last, after it handed its leadership to a target
    /// replica that answers and holds everything committed. A group whose voters are the target is reported done.
    /// </summary>
    private void MoveTowardTargets()
    {
        long now = _shard.Clock.NowNanos;
        var recently = _options.TickInterval * _options.HeartbeatTicks * 3;
        foreach (var (_, partition) in _replicas)
        {
            if (partition.IsClosed || !partition.IsLeader || partition.Topic.TargetOf(partition.Index) is not { } target
                || !partition.Raft!.MembershipSettled)
            {
                continue;
            }
            var raft = partition.Raft;
            var members = raft.Membership;
            if (NextChange(members, target, raft, now, recently) is { } change)
            {
                var result = raft.ProposeMembershipChange(change);
                Log.Info(Subsystem, $"{partition}: moving to replicas [{string.Join(", ", target)}]: {change.Kind} node {change.NodeId} ({result})");
            }
            else if (members.Learners.Length > 0)
            {
                continue; // a learner still catching up
            }
            else if (FirstOutside(members.Voters, target) is { } leaving)
            {
                Invariant.True(leaving == raft.NodeId, "only this leader is left to leave");
                // The transfer itself brings the successor to this leader's log end before it campaigns.
                int successor = Array.Find(target, t => raft.HoldsCommitted(t, now, recently));
                if (successor != 0 && raft.HandOffLeadership(successor))
                {
                    Log.Info(Subsystem, $"{partition}: moving to replicas [{string.Join(", ", target)}]: hands its leadership to node {successor} before it leaves");
                }
            }
            else if (!_completing)
            {
                _completing = true;
                _ = CompleteAsync(partition, target);
            }
        }
    }

    /// <summary>The next membership change toward <paramref name="target"/>, or null when what is left is to wait for a
    /// learner, to hand this leader's leadership away, or nothing.</summary>
    private static ConfigChange? NextChange(Membership members, int[] target, Raft.Driver.PartitionRaft raft, long now, TimeSpan recently)
    {
        if (FirstOutside(members.Learners, target) is { } strayLearner)
        {
            return new ConfigChange(ConfigChangeKind.Remove, strayLearner);
        }
        foreach (int node in target)
        {
            if (!members.Contains(node))
            {
                return new ConfigChange(ConfigChangeKind.AddLearner, node);
            }
        }
        foreach (int learner in members.Learners)
        {
            if (raft.HoldsCommitted(learner, now, recently))
            {
                return new ConfigChange(ConfigChangeKind.PromoteLearner, learner);
            }
        }
        if (members.Learners.Length == 0)
        {
            foreach (int voter in members.Voters)
            {
                if (voter != raft.NodeId && Array.IndexOf(target, voter) < 0)
                {
                    return new ConfigChange(ConfigChangeKind.Remove, voter);
                }
            }
        }
        return null;
    }

    private static int? FirstOutside(ReadOnlySpan<int> members, int[] target)
    {
        foreach (int member in members)
        {
            if (Array.IndexOf(target, member) < 0)
            {
                return member;
            }
        }
        return null;
    }

    /// <summary>Tells the controller the partition's group reached <paramref name="target"/>; a lost report is made again
    /// at a later tick, since the target stays until one is applied.</summary>
    private async Task CompleteAsync(Partition partition, int[] target)
    {
        var topic = partition.Topic;
        var reached = new int[]?[topic.PartitionCount];
        reached[partition.Index] = target;
        try
        {
            await Smp.SubmitTo(Controller.Shard, () => _controller.ExecuteAsync(
                ControllerCommand.ForTopic(ControllerCommandType.CompleteReassignment, topic with { Targets = reached })));
            Log.Info(Subsystem, $"{partition}: moved to replicas [{string.Join(", ", target)}]");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Warn(Subsystem, $"{partition}: reporting its move to replicas [{string.Join(", ", target)}] failed ({e.Message}); trying again");
        }
        finally
        {
            _completing = false;
        }
    }
}
