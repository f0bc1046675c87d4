namespace Eddy.Rpc;

/// <summary>What node-to-node RPC needs to know about this node.</summary>
public sealed class RpcOptions
{
    /// <summary>The cluster this node belongs to; a peer that names another is refused. Required.</summary>
    public required string ClusterId { get; init; }

    /// <summary>This node's id (1 and up). Required.</summary>
    public required int NodeId { get; init; }

    /// <summary>How long a connecting peer has to say hello before the listener closes the connection. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest frame accepted, header included; a longer one closes the connection. Default 16 MiB.</summary>
    public int MaxFrameBytes { get; init; } = RpcFrame.DefaultMaxFrameBytes;
}
