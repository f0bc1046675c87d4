using System.Net;
using Eddy.Observability;
using Eddy.Raft;
using Eddy.Rpc;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>
/// The cluster's controller as seen from this node: Raft group 0 on shard 0, of which every node is a member. Its log
/// holds the cluster's metadata as commands (<see cref="ControllerCommand"/>), applied on every node in log order into
/// the <see cref="ClusterView"/> that request handlers read. A change may start on any node: it goes to the leader
/// (<see cref="ExecuteAsync"/>), and completes once this node has applied it. The RPC listener, on every shard, hands
/// Raft traffic and calls to shard 0. Start and stop are called from outside the shards; everything else runs on
/// shard 0, except the published properties, which any thread may read.
/// </summary>
public sealed partial class Controller : IRpcHandler, IAsyncDisposable
{
    private const string Subsystem = "controller";

    /// <summary>The shard the controller group lives on, on every node.</summary>
    public const int Shard = 0;

    /// <summary>The controller's Raft group id; partitions' groups come after it.</summary>
    public const long Group = 0;

    private readonly ShardGroup _shards;
    private readonly ControllerOptions _options;
    private readonly RpcOptions _rpcOptions;
    private ClusterBootstrap.Identity _identity;
    private ControllerStore _store = null!;
    private RaftGroup _raft = null!;
    private NodeLinks _links = null!;
    private RpcServer _server = null!;
    private PendingHandler _listener = null!;
    private volatile ClusterView _view = ClusterView.Empty;
    // The controller group's members as of the last Ready, for other shards (the RPC listener's refusals).
    private volatile Membership? _members;
    private volatile int _leaderId;
    private int _stopCalls;
    private readonly TaskCompletionSource _formed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Controller(ShardGroup shards, ControllerOptions options, ClusterBootstrap.Identity identity, RpcOptions rpcOptions)
    {
        _shards = shards;
        _options = options;
        _identity = identity;
        _rpcOptions = rpcOptions;
    }

    /// <summary>This node's id.</summary>
    public int NodeId => _identity.NodeId;

    /// <summary>The controller's applied state. Any thread.</summary>
    public ClusterView View => _view;

    /// <summary>The cluster id; empty until the cluster has formed. Any thread.</summary>
    public string ClusterId => _view.ClusterId;

    /// <summary>The node leading the controller group, 0 when none is known. Any thread.</summary>
    public int LeaderId => _leaderId;

    /// <summary>Where other nodes reach this node's RPC listener.</summary>
    public string AdvertisedRpcHost => _identity.AdvertisedRpcHost;

    public int AdvertisedRpcPort => _identity.AdvertisedRpcPort;

    /// <summary>The RPC listener's port (the bound one when the option said 0).</summary>
    public int RpcPort => _server.Port;

    /// <summary>The voters the controller group formed with.</summary>
    public IReadOnlyList<int> Voters => _identity.Voters;

    /// <summary>RPC frames this node sent to others since it started (Raft envelopes and snapshots).</summary>
    public long FramesSent => _links.FramesSent;

    /// <summary>
    /// Opens the controller's store, restarts the group from it (or forms it with the seeds), starts the RPC listener
    /// on every shard and the group's clock. Returns at once: <see cref="WaitFormedAsync"/> waits for the cluster id.
    /// </summary>
    public static async Task<Controller> StartAsync(ShardGroup shards, ControllerOptions options, string dataDirectory)
    {
        string directory = Path.Combine(dataDirectory, "controller", "raft");
        var (store, storedNodeId, storedVoters) = await shards.InvokeAsync(Shard, async () =>
        {
            var opened = await ControllerStore.OpenAsync(directory);
            return (opened, opened.NodeId, opened.BootstrapVoters);
        });
        Controller? controller = null;
        try
        {
            // The listener binds first: with --rpc-addr on port 0 the advertised port is the bound one.
            // Node id 0 until the identity is known: peers take this node for one that is still joining meanwhile.
            var rpcOptions = new RpcOptions { ClusterId = "", NodeId = 0 };
            var pending = new PendingHandler();
            var server = await RpcServer.StartAsync(shards, options.RpcAddress, rpcOptions, pending);
            ClusterBootstrap.Identity identity;
            try
            {
                identity = ClusterBootstrap.Resolve(options, server.Port, storedNodeId, storedVoters);
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
            rpcOptions.NodeId = identity.NodeId;
            rpcOptions.IsMember = nodeId => controller?.View is { } view && (view.Broker(nodeId) is not null || view.Joined.ContainsKey(nodeId));
            // A removed node stays a member until the group's change drops it: refused before that, it could not hand
            // leadership over or vote, and a two-voter group would be stuck.
            rpcOptions.IsRemoved = nodeId => controller?.View is { } view && view.Removed.Contains(nodeId) && controller._members?.Contains(nodeId) != true;
            if (identity.MustJoin)
            {
                try
                {
                    identity = await shards.InvokeAsync(Shard, () => JoinAsync(store, identity, rpcOptions));
                }
                catch
                {
                    await server.DisposeAsync();
                    throw;
                }
            }
            controller = new Controller(shards, options, identity, rpcOptions) { _store = store, _server = server, _listener = pending };
            try
            {
                await shards.InvokeAsync(Shard, controller.StartOnShardAsync);
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
            return controller;
        }
        catch
        {
            await shards.InvokeAsync(Shard, () => store.DisposeAsync());
            throw;
        }
    }

    /// <summary>Completes when the cluster has formed (this node knows its id), or throws after <paramref name="timeout"/>
    /// with what is missing (a negative timeout waits for ever). Called from outside the shards.</summary>
    public async Task WaitFormedAsync(TimeSpan timeout)
    {
        var started = DateTime.UtcNow;
        var nextReport = TimeSpan.FromSeconds(5);
        while (!_formed.Task.IsCompleted)
        {
            var elapsed = DateTime.UtcNow - started;
            if (timeout >= TimeSpan.Zero && elapsed >= timeout)
            {
                throw new TimeoutException($"the cluster did not form within {timeout.TotalSeconds:0} s: {FormingState()}");
            }
            await Task.WhenAny(_formed.Task, Task.Delay(TimeSpan.FromMilliseconds(200)));
            if (elapsed >= nextReport && !_formed.Task.IsCompleted)
            {
                Log.Info(Subsystem, $"waiting for the cluster to form: {FormingState()}");
                nextReport += TimeSpan.FromSeconds(5);
            }
        }
    }

    private string FormingState() => _leaderId == 0
        ? $"no controller leader yet among voters [{string.Join(',', _identity.Voters)}] (a majority of them must reach each other)"
        : $"node {_leaderId} leads the controller, the cluster id is not applied here yet";

    /// <summary>Stops the group's clock, closes the connections and the listener, then the store. After the Kafka side stopped.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopCalls, 1) != 0)
        {
            return;
        }
        await _shards.InvokeAsync(Shard, HandOffLeadershipAsync);
        await _shards.InvokeAsync(Shard, StopOnShardAsync);
        await _server.DisposeAsync();
        await _shards.InvokeAsync(Shard, () => _store.DisposeAsync());
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>New outgoing connections to the other nodes, for the partitions' Raft traffic of one shard (each shard
    /// has its own, as the controller has its own on shard 0).</summary>
    internal NodeLinks OpenLinks() => new(_rpcOptions, AddressOf);

    /// <summary>Where node <paramref name="nodeId"/> listens for RPC: as it registered, else as it joined, else as --seeds says.</summary>
    private (string Host, int Port)? AddressOf(int nodeId)
    {
        var view = _view;
        if (view.Broker(nodeId) is { } broker)
        {
            return (broker.RpcHost, broker.RpcPort);
        }
        if (view.Joined.TryGetValue(nodeId, out var joined))
        {
            return (joined.RpcHost, joined.RpcPort);
        }
        return _identity.SeedAddresses.TryGetValue(nodeId, out var seed) ? (seed.Address.ToString(), seed.Port) : null;
    }

    /// <summary>Lets the listener start before the controller exists (its port decides the node's identity); nothing is
    /// accepted from other nodes until the controller is there.</summary>
    private sealed class PendingHandler : IRpcHandler
    {
        public volatile Controller? Target;

        public void OnEnvelope(NodeEnvelope envelope) => Target?.OnEnvelope(envelope);

        public ValueTask<RpcReply> OnRequestAsync(int from, RpcMethod method, byte[] body)
            => Target?.OnRequestAsync(from, method, body) ?? new(RpcReply.Failure("the node is starting"));
    }
}
