using Eddy.Raft;

namespace Eddy.Rpc;

/// <summary>What the RPC server hands on: called on the shard that accepted the connection, in the order the peer sent.</summary>
public interface IRpcHandler
{
    /// <summary>A peer's Raft messages for this node, already checked to come from the node that said hello (a snapshot
    /// arrives as an envelope holding that one message).</summary>
    void OnEnvelope(NodeEnvelope envelope);

    /// <summary>A call from node <paramref name="from"/>. The connection goes on reading while it runs, so a call may
    /// wait for Raft traffic from the same peer; the reply is sent when it completes.</summary>
    ValueTask<RpcReply> OnRequestAsync(int from, RpcMethod method, byte[] body);
}
