using Eddy.Observability;
using Eddy.Raft;

namespace Eddy.Cluster;

/// <summary>
/// Decommissioning a node: it drains first (<see cref="ClusterView.Draining"/>: its replicated partitions are reassigned
/// to other nodes while it still serves them, so no partition drops below its replication factor on the way), then the
/// controller's leader removes it once it holds no replica, as UnregisterBroker does at once.
/// </summary>
public sealed partial class Controller
{
    private int _removingDrained;
    private ClusterView? _drainsCheckedIn; // a drain can only finish in a view that changed since

    /// <summary>Starts draining node <paramref name="nodeId"/>: null once the controller applied it (or it was
    /// draining already), else why not. Any shard.</summary>
    public Task<string?> DecommissionAsync(int nodeId) => _shards.InvokeAsync(Shard, async () =>
    {
        if (_view.DecommissionProblem(nodeId, _identity.Voters) is { } problem)
        {
            return problem;
        }
        if (!_view.Draining.Contains(nodeId))
        {
            await ExecuteAsync(ControllerCommand.DecommissionNode(nodeId));
            Log.Info(Subsystem, $"node {nodeId} is draining: its replicas move to other nodes, then it is removed");
        }
        return (string?)null;
    });

    /// <summary>Stops draining node <paramref name="nodeId"/>: null once applied, else why not. Any shard.</summary>
    public Task<string?> RecommissionAsync(int nodeId) => _shards.InvokeAsync(Shard, async () =>
    {
        if (!_view.Draining.Contains(nodeId))
        {
            return _view.NodeIds(_identity.Voters).Contains(nodeId) ? $"node {nodeId} is not draining" : $"node {nodeId} is not a member of this cluster";
        }
        await ExecuteAsync(ControllerCommand.RecommissionNode(nodeId));
        Log.Info(Subsystem, $"node {nodeId} stopped draining");
        return (string?)null;
    });

    /// <summary>On the leader, each tick whose view changed: a draining node that holds no replica any more is removed,
    /// one at a time.</summary>
    private void RemoveDrainedNodes()
    {
        if (_raft.Role != Role.Leader || _removingDrained != 0 || ReferenceEquals(_view, _drainsCheckedIn))
        {
            return;
        }
        _drainsCheckedIn = _view;
        foreach (int node in _view.Draining)
        {
            if (_view.ReplicasOn(node) == (0, 0))
            {
                _removingDrained = node;
                _ = RemoveDrainedAsync(node);
                return;
            }
        }
    }

    private async Task RemoveDrainedAsync(int node)
    {
        try
        {
            await ExecuteAsync(ControllerCommand.RemoveNode(node));
            Log.Info(Subsystem, $"node {node} was drained and removed from the cluster");
        }
        catch (ControllerUnavailableException e)
        {
            Log.Warn(Subsystem, $"removing drained node {node}: {e.Message}; trying again");
            _drainsCheckedIn = null;
        }
        finally
        {
            _removingDrained = 0;
        }
    }
}
