using System.Collections.Concurrent;
using Eddy.Raft;

namespace Eddy.Rpc.Tests;

/// <summary>A node's RPC handler in these tests: keeps the envelopes it hears, and answers a call with its body
/// reversed, so a test sees its own call answered.</summary>
internal sealed class Inbox : IRpcHandler
{
    public BlockingCollection<NodeEnvelope> Received { get; } = [];

    public void OnEnvelope(NodeEnvelope envelope) => Received.Add(envelope);

    public ValueTask<RpcReply> OnRequestAsync(int from, RpcMethod method, byte[] body) => new(RpcReply.Success([.. body.Reverse()]));
}
