using System.Net;
using Eddy.Observability;
using Eddy.Raft;
using Eddy.Rpc;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>
/// Nodes beyond the seeds: joining (the newcomer asks any seed; the controller records it and gives it an id), leaving
/// (<see cref="RemoveNodeAsync"/>), and the leader keeping the controller group to the recorded nodes: a removed node
/// is dropped, a new one becomes a learner, and a caught-up learner a voter while the voters are fewer than
/// <see cref="ControllerOptions.MaxVoters"/> (so one takes the place of a voter that left).
/// </summary>
public sealed partial class Controller
{
    private static readonly TimeSpan JoinRetry = TimeSpan.FromMilliseconds(500);

    /// <summary>Asks the seeds, one after another until one answers, to let this node in; records the id and the
    /// controller's voters it got. The token is made durable before the first ask. Shard 0, before the group starts.</summary>
    private static async ValueTask<ClusterBootstrap.Identity> JoinAsync(ControllerStore store, ClusterBootstrap.Identity identity, RpcOptions rpcOptions)
    {
        var shard = Runtime.Shard.Current!;
        if (store.JoinToken is not { } token)
        {
            token = Guid.NewGuid();
            await store.PutJoinTokenAsync(token);
        }
        var request = new JoinRequest(identity.NodeId, identity.AdvertisedRpcHost, identity.AdvertisedRpcPort, token).Encode();
        long reportAt = shard.Clock.NowNanos;
        while (true)
        {
            foreach (var (seed, address) in identity.SeedAddresses)
            {
                string why;
                try
                {
                    var reply = await CallOnceAsync(address, rpcOptions, RpcMethod.Join, request);
                    if (reply.Ok)
                    {
                        var joined = JoinReply.Decode(reply.Body);
                        await store.PutIdentityAsync(joined.NodeId, joined.BootstrapVoters);
                        rpcOptions.NodeId = joined.NodeId;
                        rpcOptions.ClusterId = joined.ClusterId;
                        Log.Info(Subsystem, $"joined the cluster through seed {seed} at {address} as node {joined.NodeId}");
                        return identity with { NodeId = joined.NodeId, Voters = joined.BootstrapVoters, MustJoin = false };
                    }
                    if (reply.Error.StartsWith(RefusedPrefix, StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException($"the cluster refused this node: {reply.Error[RefusedPrefix.Length..]}");
                    }
                    why = reply.Error;
                }
                catch (RpcRefusedException e)
                {
                    throw new InvalidOperationException($"the cluster refused this node: {e.Message}");
                }
                catch (Exception e) when (e is RpcUnavailableException or RpcFormatException or IOException)
                {
                    why = e.Message;
                }
                if (shard.Clock.NowNanos >= reportAt)
                {
                    Log.Info(Subsystem, $"asking to join through seed {seed} at {address}: {why}; trying the seeds again");
                    reportAt = shard.Clock.NowNanos + 5_000_000_000L;
                }
            }
            await shard.Delay(JoinRetry);
        }
    }

    private const string RefusedPrefix = "refused: ";

    /// <summary>One call on a connection of its own (this node has no id for the links yet).</summary>
    private static async ValueTask<RpcReply> CallOnceAsync(IPEndPoint address, RpcOptions options, RpcMethod method, byte[] body)
    {
        using var peer = await NodeLinks.ConnectWithinTimeoutAsync(address, options);
        return await peer.CallAsync(method, body, TimeSpan.FromSeconds(10));
    }

    /// <summary>A node asking to join, through this one. Shard 0.</summary>
    private async ValueTask<RpcReply> JoinOnControllerAsync(byte[] body)
    {
        var join = JoinRequest.Decode(body);
        if (_view.ClusterId.Length == 0)
        {
            return RpcReply.Failure("the cluster has not formed yet");
        }
        if (_view.JoinedAs(join.Token) == 0 && _view.NodeIds(_identity.Voters).Count() >= RaftOptions.MaxMembers)
        {
            // Every node is a member of the controller group, which has room for this many.
            return RpcReply.Failure($"{RefusedPrefix}the cluster has {RaftOptions.MaxMembers} nodes, as many as it can hold for now");
        }
        if (_view.JoinedAs(join.Token) == 0 && join.NodeId != 0 && _view.NodeIds(_identity.Voters).Contains(join.NodeId))
        {
            return RpcReply.Failure($"{RefusedPrefix}node id {join.NodeId} belongs to another node of cluster '{_view.ClusterId}'");
        }
        try
        {
            await ExecuteAsync(ControllerCommand.JoinNode(join));
        }
        catch (ControllerUnavailableException e)
        {
            return RpcReply.Failure(e.Message);
        }
        int id = _view.JoinedAs(join.Token);
        return id == 0
            ? RpcReply.Failure($"{RefusedPrefix}node id {join.NodeId} was taken by another node meanwhile")
            : RpcReply.Success(new JoinReply(id, _view.ClusterId, _identity.Voters).Encode());
    }

    /// <summary>How long a stopping leader waits for another voter to take over before it stops anyway.</summary>
    private static readonly TimeSpan HandOffTimeout = TimeSpan.FromSeconds(1);

    /// <summary>A leader that stops first hands leadership to the most caught-up other voter, so the cluster does not wait
    /// out an election timeout (a rolling restart loses no controller time). Shard 0.</summary>
    private async ValueTask HandOffLeadershipAsync()
    {
        if (_raft.Role != Role.Leader || _failed || _raft.Membership.Voters.Length < 2)
        {
            return;
        }
        int target = MostCaughtUpOtherVoter();
        if (target == 0 || _raft.TransferLeadership(target) != ProposeResult.Accepted)
        {
            return;
        }
        Pump();
        var shard = Runtime.Shard.Current!;
        long deadline = shard.Clock.NowNanos + HandOffTimeout.Ticks * 100;
        while ((_leaderId == NodeId || _leaderId == 0) && shard.Clock.NowNanos < deadline)
        {
            await shard.Delay(TimeSpan.FromMilliseconds(5));
        }
        Log.Info(Subsystem, _leaderId == NodeId || _leaderId == 0
            ? $"stopping while leading the controller: node {target} did not take over within {HandOffTimeout.TotalSeconds:0} s"
            : $"stopping: handed controller leadership to node {_leaderId}");
    }

    /// <summary>The other voter whose log is furthest along, or 0 when there is none. Leader only.</summary>
    private int MostCaughtUpOtherVoter()
    {
        int target = 0;
        long best = -1;
        foreach (int voter in _raft.Membership.Voters)
        {
            if (voter != NodeId && _raft.Progress.TryGetValue(voter, out var progress) && progress.Match > best)
            {
                (target, best) = (voter, progress.Match);
            }
        }
        return target;
    }

    /// <summary>
    /// Removes a node from the cluster for good (Kafka's UnregisterBroker): a Kafka error code, 0 when it is done. The
    /// node must be one of the cluster's, and not its last. Its partitions are not moved (with one replica each they
    /// are unavailable until the node's data comes back under a reassignment). Any shard.
    /// </summary>
    public Task<short> RemoveNodeAsync(int nodeId) => _shards.InvokeAsync(Shard, async () =>
    {
        try
        {
            return await RemoveNodeOnShardAsync(nodeId);
        }
        catch (ControllerUnavailableException e)
        {
            Log.Warn(Subsystem, $"removing node {nodeId}: {e.Message}");
            return Errors.KafkaErrors.RequestTimedOut;
        }
    });

    private async ValueTask<short> RemoveNodeOnShardAsync(int nodeId)
    {
        var nodes = _view.NodeIds(_identity.Voters).ToArray();
        if (!nodes.Contains(nodeId))
        {
            return Errors.KafkaErrors.BrokerIdNotRegistered;
        }
        if (nodes.Length == 1)
        {
            return Errors.KafkaErrors.InvalidRequest;
        }
        await ExecuteAsync(ControllerCommand.RemoveNode(nodeId));
        Log.Info(Subsystem, $"node {nodeId} was removed from the cluster");
        return _view.Removed.Contains(nodeId) ? (short)0 : Errors.KafkaErrors.InvalidRequest;
    }

    /// <summary>On the leader, each tick, one membership step at a time: a removed member leaves the group (a leader
    /// that was removed hands leadership over first), a recorded node that is not a member becomes a learner, then a
    /// caught-up learner a voter while there are fewer than the cap.</summary>
    private void ReconcileMembership()
    {
        if (_raft.Role != Role.Leader)
        {
            return;
        }
        var members = _raft.Membership;
        foreach (int node in members.Voters.ToArray().Concat(members.Learners.ToArray()))
        {
            if (!_view.Removed.Contains(node))
            {
                continue;
            }
            if (node == NodeId)
            {
                // A leader never removes itself: another voter takes over and removes it. With no other voter yet, a
                // learner is promoted first (below).
                int target = MostCaughtUpOtherVoter();
                if (target == 0)
                {
                    continue;
                }
                if (_raft.LeadTransferee == 0 && _raft.TransferLeadership(target) == ProposeResult.Accepted)
                {
                    Log.Info(Subsystem, $"this node was removed: it hands controller leadership to node {target}");
                    Pump();
                }
            }
            else if (_raft.ProposeConfigChange(new ConfigChange(ConfigChangeKind.Remove, node)) == ProposeResult.Accepted)
            {
                Log.Info(Subsystem, $"node {node} was removed: it leaves the controller group");
                Pump();
            }
            return;
        }
        foreach (int node in _view.NodeIds(_identity.Voters))
        {
            if (!members.Contains(node))
            {
                if (_raft.ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, node)) == ProposeResult.Accepted)
                {
                    Log.Info(Subsystem, $"node {node} joins the controller as a learner");
                    Pump();
                }
                return;
            }
        }
        if (members.Voters.Length >= _options.MaxVoters)
        {
            return;
        }
        foreach (int learner in members.Learners)
        {
            if (_raft.Progress.TryGetValue(learner, out var progress) && progress.Match >= _raft.Committed
                && _raft.ProposeConfigChange(new ConfigChange(ConfigChangeKind.PromoteLearner, learner)) == ProposeResult.Accepted)
            {
                Log.Info(Subsystem, $"node {learner} caught up: it becomes a controller voter");
                Pump();
                return;
            }
        }
    }
}
