namespace Eddy.Rpc;

/// <summary>What a node-to-node frame carries. Numbers are on the wire: never reuse one.</summary>
public enum RpcMessageType : short
{
    /// <summary>The first frame a connecting node sends: its cluster id and node id (<see cref="Hello"/>).</summary>
    Hello = 1,

    /// <summary>The answer to <see cref="Hello"/>: accepted or refused, and the listening node's ids.</summary>
    HelloReply = 2,

    /// <summary>Every Raft message one node has for another in one flush, for all the groups they share
    /// (<see cref="Raft.NodeEnvelope"/>).</summary>
    RaftEnvelope = 3,

    /// <summary>A call to the node at the other end (<see cref="RpcCall"/>): a method and its body; answered with a
    /// <see cref="Response"/> carrying the same correlation.</summary>
    Request = 4,

    /// <summary>The answer to a <see cref="Request"/>: its outcome and body, or why it failed.</summary>
    Response = 5,

    /// <summary>One Raft snapshot message, apart from the envelopes so a large image does not hold heartbeats up.</summary>
    RaftSnapshot = 6,
}
