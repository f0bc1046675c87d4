using Eddy.Cluster;
using Eddy.Observability;

namespace Eddy.Kafka.Groups;

// The coordinator follows the leadership of its shard's `__consumer_offsets` partitions: a group is coordinated where
// its partition's leader is, so that with a replicated offsets topic the groups move with the leadership and their
// committed offsets (in the replicated log) survive the loss of a node.
public sealed partial class GroupCoordinator
{
    /// <summary>
    /// Serves the groups of the `__consumer_offsets` partition <paramref name="partition"/> (open on this shard) while it
    /// serves as leader, and gives them up when it stops: called for each such partition here once the coordinators
    /// exist, and again on every change of its leadership. A partition with one replica always leads. A new leader has
    /// every committed record in its log (Raft's leader completeness), so its replay rebuilds every acknowledged change.
    /// The task completes when a load started here is over; a failed load is logged and left to the next change.
    /// </summary>
    public Task FollowAsync(Partition partition)
    {
        _shard.AssertCurrent();
        bool leads = !_stopped && !partition.IsClosed && partition.IsLeader;
        _partitions.TryGetValue(partition.Index, out var owned);
        if (leads && owned?.Partition != partition)
        {
            // Another object for the same index is a closed one (reopened since): its groups go first. Both calls
            // change the maps before they first wait, so a later change of leadership sees where this one left them.
            var removing = owned is null ? ValueTask.CompletedTask : RemovePartitionAsync(partition.Index);
            return LoadAsync(removing, partition);
        }
        if (!leads && owned is not null)
        {
            Log.Info(Subsystem, $"{GroupPlacement.OffsetsTopic}-{partition.Index}: no longer led here; its groups move to the new leader");
            return RemovePartitionAsync(partition.Index).AsTask();
        }
        return Task.CompletedTask;
    }

    private async Task LoadAsync(ValueTask removing, Partition partition)
    {
        try
        {
            var adding = AddPartitionAsync(partition.Index, partition);
            await removing;
            await adding;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Error(Subsystem, $"{GroupPlacement.OffsetsTopic}-{partition.Index}: loading its groups failed: {e.Message}");
        }
    }
}
