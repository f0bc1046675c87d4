namespace Eddy.Rpc;

/// <summary>What node-to-node RPC needs to know about this node.</summary>
public sealed class RpcOptions
{
    private volatile string _clusterId = "";

    /// <summary>The cluster this node belongs to; a peer that names another is refused. Empty while the node has not
    /// formed or joined a cluster yet: such a node, and a peer that says it is one, are let in, since that is how a
    /// cluster forms (the controller then hands every node the id). Set once known, from the controller's shard;
    /// read on every shard.</summary>
    public required string ClusterId
    {
        get => _clusterId;
        set => _clusterId = value;
    }

    /// <summary>This node's id (1 and up). Required. A node that learns its id only once its listener is bound (the
    /// id may depend on the bound port) sets it then, before it lets any peer in.</summary>
    public required int NodeId { get; set; }

    /// <summary>How long a connecting peer has to say hello before the listener closes the connection. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest frame accepted, header included; a longer one closes the connection. Default 16 MiB.</summary>
    public int MaxFrameBytes { get; init; } = RpcFrame.DefaultMaxFrameBytes;

    /// <summary>Whether a peer naming <paramref name="clusterId"/> belongs with this node: the same cluster, or one of
    /// the two has none yet.</summary>
    public bool SameCluster(string clusterId) => clusterId.Length == 0 || _clusterId.Length == 0 || clusterId == _clusterId;
}
