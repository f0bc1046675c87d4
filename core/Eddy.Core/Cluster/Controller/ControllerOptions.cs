using System.Net;

namespace Eddy.Cluster;

/// <summary>How a node takes part in the cluster: its id, its RPC listener and the seeds, with the controller's timing.</summary>
public sealed class ControllerOptions
{
    /// <summary>--node-id: 0 lets the node find its id (its position in the seed list, or 1 alone, or the id its data
    /// directory recorded). Default 0.</summary>
    public int NodeId { get; init; }

    /// <summary>--rpc-addr: the node-to-node listener. Default 127.0.0.1:0 (an ephemeral port, for nodes in tests);
    /// `eddy start` defaults to 0.0.0.0:33145.</summary>
    public IPEndPoint RpcAddress { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>--advertise-rpc-addr: what other nodes are told, HOST:PORT; null: the listener's address.</summary>
    public string? AdvertisedRpcAddress { get; init; }

    /// <summary>--seeds: the RPC addresses of the nodes that form the cluster together. Empty: a one-node cluster.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary>--rack: the node's rack, reported in Metadata. Default none.</summary>
    public string Rack { get; init; } = "";

    /// <summary>One Raft tick of the controller group. Default 50 ms: heartbeats every 2 ticks (100 ms), elections after
    /// 10 to 20 ticks (0.5 to 1 s) without a leader.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    public int ElectionTicks { get; init; } = 10;

    public int HeartbeatTicks { get; init; } = 2;

    /// <summary>Applied commands between two snapshots of the controller's state; the log holds about this many. Default 500.</summary>
    public int SnapshotEveryEntries { get; init; } = 500;

    /// <summary>Voters the controller grows to as nodes join (the seeds are voters whatever their number); nodes beyond
    /// it follow the controller's log as learners. Default 5.</summary>
    public int MaxVoters { get; init; } = 5;

    /// <summary>How long a metadata change waits for the controller (a leader, a commit, the local apply). Default 10 s.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
