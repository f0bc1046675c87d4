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

    /// <summary>The peers that connected to this node's listener (<see cref="PeerSightings"/>), shared by the listener and
    /// every shard's links.</summary>
    public PeerSightings Sightings { get; } = new();

    /// <summary>Whether a node id is a member of this node's cluster (the controller's registered brokers). Default: none is.</summary>
    public Func<int, bool> IsMember { get; set; } = static _ => false;

    /// <summary>Whether a node id belongs to a node removed from this node's cluster. Default: none does.</summary>
    public Func<int, bool> IsRemoved { get; set; } = static _ => false;

    /// <summary>Why a peer saying it is node <paramref name="nodeId"/> of <paramref name="clusterId"/> must not take part,
    /// or null when it may: it names another cluster, or it has no cluster while its id belongs to a member of this
    /// one (a node whose data directory was lost: taking its old id back would forget the votes it cast), or it was
    /// removed from this cluster.</summary>
    public string? RefusalFor(string clusterId, int nodeId)
    {
        string own = _clusterId;
        if (clusterId.Length > 0 && own.Length > 0 && clusterId != own)
        {
            return $"cluster '{clusterId}' is not this node's cluster '{own}'";
        }
        if (own.Length > 0 && IsRemoved(nodeId))
        {
            return $"node {nodeId} was removed from cluster '{own}'";
        }
        if (clusterId.Length == 0 && own.Length > 0 && IsMember(nodeId))
        {
            return $"node id {nodeId} belongs to a member of cluster '{own}', and the node claiming it has no cluster: " +
                "a node whose data directory was lost cannot take its old id back";
        }
        return null;
    }
}
