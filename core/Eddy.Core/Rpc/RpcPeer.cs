using System.Net;
using Eddy.Net;
using Eddy.Raft;

namespace Eddy.Rpc;

/// <summary>
/// This node's connection to another, made on the calling shard: connects, says hello and waits for the answer, then
/// sends Raft envelopes one at a time (the caller awaits each send). Used on the shard that made it.
/// </summary>
public sealed class RpcPeer : IDisposable
{
    private readonly RpcChannel _channel;
    private readonly RpcWriter _writer = new();
    private int _correlation;

    private RpcPeer(RpcChannel channel, int nodeId)
    {
        _channel = channel;
        RemoteNodeId = nodeId;
    }

    /// <summary>The node at the other end, as its hello reply named it.</summary>
    public int RemoteNodeId { get; }

    /// <summary>Connects to the node at <paramref name="endpoint"/>; throws <see cref="RpcRefusedException"/> when it refuses
    /// this node or answers with something else than a hello reply.</summary>
    public static async ValueTask<RpcPeer> ConnectAsync(IPEndPoint endpoint, RpcOptions options)
    {
        var connection = await Connection.ConnectAsync(endpoint);
        var channel = new RpcChannel(connection, Math.Min(Hello.MaxHandshakeFrameBytes, options.MaxFrameBytes));
        try
        {
            var writer = new RpcWriter();
            new Hello(options.ClusterId, options.NodeId).Write(writer);
            await channel.SendAsync(RpcMessageType.Hello, 1, writer);
            var read = await channel.ReadAsync();
            if (!read.IsFrame || read.Frame.Type != RpcMessageType.HelloReply)
            {
                throw new RpcRefusedException($"{endpoint} did not answer the hello ({(read.PeerClosed ? "it closed the connection" : read.Status.ToString())})");
            }
            HelloReply reply;
            try
            {
                reply = HelloReply.Read(channel.Payload(read.Frame));
            }
            catch (RpcFormatException e)
            {
                throw new RpcRefusedException($"{endpoint} answered the hello with a malformed reply ({e.Message})");
            }
            if (!reply.Accepted)
            {
                throw new RpcRefusedException($"node {reply.NodeId} of cluster '{reply.ClusterId}' at {endpoint} refused this node: {reply.Reason}");
            }
            channel.MaxFrameBytes = options.MaxFrameBytes;
            return new RpcPeer(channel, reply.NodeId);
        }
        catch
        {
            channel.Dispose();
            connection.Dispose();
            throw;
        }
    }

    public ValueTask SendAsync(NodeEnvelope envelope)
    {
        _writer.Clear();
        NodeEnvelopeCodec.Write(envelope, _writer);
        return _channel.SendAsync(RpcMessageType.RaftEnvelope, ++_correlation, _writer);
    }

    public void Dispose()
    {
        _channel.Dispose();
        _channel.Connection.Dispose();
    }
}
