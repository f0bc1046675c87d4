using Eddy.Raft;

namespace Eddy.Rpc;

/// <summary>What the RPC server hands on: called on the shard that accepted the connection, in the order the peer sent.</summary>
public interface IRpcHandler
{
    /// <summary>A peer's Raft messages for this node, already checked to come from the node that said hello.</summary>
    void OnEnvelope(NodeEnvelope envelope);
}
