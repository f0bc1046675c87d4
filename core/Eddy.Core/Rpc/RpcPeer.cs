using System.Net;
using Eddy.Net;
using Eddy.Observability;
using Eddy.Raft;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Rpc;

/// <summary>
/// This node's connection to another, made on the calling shard and used only there: connects, says hello and waits
/// for the answer; then sends Raft frames and calls, one frame at a time, and reads the replies to its calls. Once the
/// connection fails it stays closed (<see cref="IsClosed"/>): every call waiting on it fails, and the owner makes a
/// new one.
/// </summary>
public sealed class RpcPeer : IDisposable
{
    private readonly RpcChannel _channel;
    private readonly AsyncGate _sends = new();
    private readonly Dictionary<int, TaskCompletionSource<RpcReply>> _calls = new();
    private int _correlation = 1;

    private RpcPeer(RpcChannel channel, int nodeId, string endpoint)
    {
        _channel = channel;
        RemoteNodeId = nodeId;
        Endpoint = endpoint;
    }

    /// <summary>The node at the other end, as its hello reply named it.</summary>
    public int RemoteNodeId { get; }

    public string Endpoint { get; }

    /// <summary>The connection failed or was closed: nothing more can be sent on it.</summary>
    public bool IsClosed { get; private set; }

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
            if (options.RefusalFor(reply.ClusterId, reply.NodeId) is { } refusal)
            {
                throw new RpcRefusedException($"node {reply.NodeId} at {endpoint} is refused: {refusal}");
            }
            channel.MaxFrameBytes = options.MaxFrameBytes;
            var peer = new RpcPeer(channel, reply.NodeId, endpoint.ToString());
            _ = peer.ReadRepliesAsync();
            return peer;
        }
        catch
        {
            channel.Dispose();
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Sends one envelope; completes when it is handed to the kernel.</summary>
    public ValueTask SendAsync(NodeEnvelope envelope)
    {
        var writer = new RpcWriter();
        NodeEnvelopeCodec.Write(envelope, writer);
        return SendFrameAsync(RpcFrame.Encode(RpcMessageType.RaftEnvelope, 0, writer.Written));
    }

    /// <summary>Sends a whole frame (<see cref="RpcFrame.Encode"/>) after the ones before it.</summary>
    public async ValueTask SendFrameAsync(ReadOnlyMemory<byte> frame)
    {
        await _sends.EnterAsync();
        try
        {
            if (IsClosed)
            {
                throw new RpcUnavailableException($"the connection to node {RemoteNodeId} at {Endpoint} is closed");
            }
            await _channel.Connection.SendAsync(frame);
        }
        catch (Exception e) when (e is not RpcUnavailableException)
        {
            Close();
            throw new RpcUnavailableException($"sending to node {RemoteNodeId} at {Endpoint} failed: {e.Message}");
        }
        finally
        {
            _sends.Exit();
        }
    }

    /// <summary>Calls <paramref name="method"/> on the other node and waits for its reply, at most <paramref name="timeout"/>;
    /// throws <see cref="RpcUnavailableException"/> when the connection fails or the time is up first.</summary>
    public async ValueTask<RpcReply> CallAsync(RpcMethod method, ReadOnlyMemory<byte> body, TimeSpan timeout)
    {
        var shard = Shard.Current!;
        int correlation = ++_correlation;
        var reply = new TaskCompletionSource<RpcReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls[correlation] = reply;
        var expiry = shard.Schedule(shard.Clock.NowNanos + timeout.Ticks * 100, static state =>
        {
            var (peer, id, method, timeout) = ((RpcPeer, int, RpcMethod, TimeSpan))state!;
            if (peer._calls.Remove(id, out var waiting))
            {
                waiting.TrySetException(new RpcUnavailableException($"node {peer.RemoteNodeId} did not answer {method} within {timeout.TotalSeconds:0.###} s"));
            }
        }, (this, correlation, method, timeout));
        try
        {
            var writer = new RpcWriter();
            RpcCall.WriteRequest(writer, method, body.Span);
            await SendFrameAsync(RpcFrame.Encode(RpcMessageType.Request, correlation, writer.Written));
            return await reply.Task;
        }
        finally
        {
            expiry.Cancel();
            _calls.Remove(correlation);
        }
    }

    private async Task ReadRepliesAsync()
    {
        string? failure = null;
        try
        {
            while (failure is null)
            {
                var read = await _channel.ReadAsync();
                if (read.PeerClosed)
                {
                    failure = "it closed the connection";
                }
                else if (!read.IsFrame || read.Frame.Type != RpcMessageType.Response)
                {
                    failure = read.IsFrame ? $"it sent a frame of type {(short)read.Frame.Type} where replies were expected" : $"it sent a bad frame ({read.Status})";
                    Log.Warn("rpc", $"node {RemoteNodeId} at {Endpoint}: {failure}; connection closed");
                }
                else if (_calls.Remove(read.Frame.Correlation, out var waiting))
                {
                    waiting.TrySetResult(RpcCall.ReadReply(_channel.Payload(read.Frame)));
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            failure = e.Message;
        }
        Close();
        foreach (var (_, waiting) in _calls)
        {
            waiting.TrySetException(new RpcUnavailableException($"the connection to node {RemoteNodeId} at {Endpoint} failed: {failure}"));
        }
        _calls.Clear();
        _channel.Dispose(); // the read that used its buffer has ended
    }

    private void Close()
    {
        if (!IsClosed)
        {
            IsClosed = true;
            _channel.Connection.Dispose();
        }
    }

    /// <summary>Closes the connection; the pending read ends, fails the calls still waiting and frees the buffer.</summary>
    public void Dispose() => Close();
}
