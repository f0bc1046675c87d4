using System.Net;
using Eddy.Net;
using Eddy.Observability;
using Eddy.Raft;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Rpc;

/// <summary>
/// The node-to-node listener, on every shard like the Kafka listener. A connection starts with a <see cref="Hello"/>:
/// a peer of another cluster, with an invalid node id or claiming this node's own, is answered with a refusal and
/// closed. After it, the peer sends Raft envelopes and snapshots from itself to this node, and calls, answered on the
/// same connection. A frame that is anything else (garbage,
/// a version this node does not speak, a bad checksum, a length past the limit, a payload that does not decode)
/// closes that connection with one log line; every other connection goes on.
/// </summary>
public sealed class RpcServer : IAsyncDisposable
{
    private const string Subsystem = "rpc";

    private readonly RpcOptions _options;
    private readonly IRpcHandler _handler;
    private TcpServer _tcp = null!;
    private ShardGroup _group = null!;
    private HashSet<Connection>[] _open = []; // per shard, touched on that shard only

    private RpcServer(RpcOptions options, IRpcHandler handler)
    {
        _options = options;
        _handler = handler;
    }

    public int Port => _tcp.Port;

    public static async Task<RpcServer> StartAsync(ShardGroup group, IPEndPoint endpoint, RpcOptions options, IRpcHandler handler)
    {
        var server = new RpcServer(options, handler) { _group = group, _open = [.. Enumerable.Range(0, group.Count).Select(_ => new HashSet<Connection>())] };
        server._tcp = await TcpServer.StartAsync(group, endpoint, server.ServeAsync);
        Log.Info(Subsystem, $"listening for other nodes on {endpoint.Address}:{server.Port}");
        return server;
    }

    private async ValueTask ServeAsync(Connection connection)
    {
        var open = _open[connection.Shard.Id];
        open.Add(connection);
        try
        {
            await ServeConnectionAsync(connection);
        }
        finally
        {
            open.Remove(connection);
        }
    }

    private async ValueTask ServeConnectionAsync(Connection connection)
    {
        using var channel = new RpcChannel(connection, Math.Min(Hello.MaxHandshakeFrameBytes, _options.MaxFrameBytes));
        string peer = connection.RemoteEndPoint?.ToString() ?? "a peer";
        // A peer that connects and says nothing must not hold the connection: closing it ends the pending read.
        var shard = connection.Shard;
        var deadline = shard.Schedule(shard.Clock.NowNanos + _options.HandshakeTimeout.Ticks * 100, s_handshakeExpired,
            new SilentPeer(connection, peer, _options.HandshakeTimeout));
        var hello = await ReadHelloAsync(channel, peer);
        deadline.Cancel();
        if (hello is not { } from)
        {
            return;
        }
        peer = $"node {from.NodeId} at {peer}";
        if (from.NodeId > 0 && !_options.IsRemoved(from.NodeId))
        {
            _options.Sightings.Saw(from.NodeId);
        }
        channel.MaxFrameBytes = _options.MaxFrameBytes;
        var sends = new AsyncGate();
        while (true)
        {
            var read = await channel.ReadAsync();
            if (read.PeerClosed)
            {
                return;
            }
            if (!read.IsFrame)
            {
                Refuse(peer, Describe(read));
                return;
            }
            if (_options.IsRemoved(from.NodeId))
            {
                // Removed while connected: its hello passed before, so its connections are closed as they speak.
                Refuse(peer, $"node {from.NodeId} was removed from cluster '{_options.ClusterId}'");
                return;
            }
            if (from.NodeId == 0 && read.Frame.Type != RpcMessageType.Request)
            {
                Refuse(peer, "sent Raft traffic before it has a node id (a node asking to join may only call)");
                return;
            }
            var payload = channel.Payload(read.Frame);
            NodeEnvelope envelope;
            try
            {
                switch (read.Frame.Type)
                {
                    case RpcMessageType.RaftEnvelope:
                        envelope = NodeEnvelopeCodec.Read(payload, read.Frame.TailLength);
                        break;
                    case RpcMessageType.RaftSnapshot:
                        envelope = NodeEnvelopeCodec.ReadSnapshot(payload);
                        break;
                    case RpcMessageType.Request:
                        var (method, body) = RpcCall.ReadRequest(payload);
                        _ = AnswerAsync(channel, sends, from.NodeId, read.Frame.Correlation, method, body);
                        continue;

                    default:
                        Refuse(peer, $"sent a frame of type {(short)read.Frame.Type}, which a node does not send to a listener");
                        return;
                }
            }
            catch (RpcFormatException e)
            {
                Refuse(peer, $"sent a malformed {read.Frame.Type} frame ({e.Message})");
                return;
            }
            if (envelope.From != from.NodeId || envelope.To != _options.NodeId)
            {
                Refuse(peer, $"sent Raft messages from node {envelope.From} to node {envelope.To} on the connection of node {from.NodeId} to node {_options.NodeId}");
                return;
            }
            _handler.OnEnvelope(envelope);
        }
    }

    /// <summary>Runs a call while the connection goes on reading, then sends its reply; replies leave one at a time.</summary>
    private async Task AnswerAsync(RpcChannel channel, AsyncGate sends, int from, int correlation, RpcMethod method, byte[] body)
    {
        RpcReply reply;
        try
        {
            reply = await _handler.OnRequestAsync(from, method, body);
        }
        catch (Exception e)
        {
            Log.Warn(Subsystem, $"call {method} from node {from} failed: {e.Message}");
            reply = RpcReply.Failure(e.Message);
        }
        var writer = new RpcWriter();
        RpcCall.WriteReply(writer, reply);
        await sends.EnterAsync();
        try
        {
            await channel.SendAsync(RpcMessageType.Response, correlation, writer);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The caller went away; it times out or reconnects and asks again.
            Log.Write(LogLevel.Debug, Subsystem, $"reply to node {from}'s call {method} not sent: {e.Message}");
        }
        finally
        {
            sends.Exit();
        }
    }

    /// <summary>The peer's hello when it is acceptable (and answered so), else null once the refusal is sent and logged.</summary>
    private async ValueTask<Hello?> ReadHelloAsync(RpcChannel channel, string peer)
    {
        var read = await channel.ReadAsync();
        if (read.PeerClosed)
        {
            return null;
        }
        if (!read.IsFrame || read.Frame.Type != RpcMessageType.Hello)
        {
            Refuse(peer, read.IsFrame ? $"sent a frame of type {(short)read.Frame.Type} before the hello" : Describe(read));
            return null;
        }
        Hello hello;
        try
        {
            hello = Hello.Read(channel.Payload(read.Frame));
        }
        catch (RpcFormatException e)
        {
            Refuse(peer, $"sent a malformed hello ({e.Message})");
            return null;
        }
        string? refusal = _options.RefusalFor(hello.ClusterId, hello.NodeId) is { } why ? why
            : hello.NodeId < 0 ? $"node id {hello.NodeId} is not valid (ids start at 1; 0 is a node asking to join)"
            : hello.NodeId == _options.NodeId ? $"node id {hello.NodeId} is this node's own"
            : null;
        var writer = new RpcWriter();
        new HelloReply(refusal is null, _options.ClusterId, _options.NodeId, refusal ?? "").Write(writer);
        await channel.SendAsync(RpcMessageType.HelloReply, read.Frame.Correlation, writer);
        if (refusal is not null)
        {
            Refuse($"node {hello.NodeId} at {peer}", $"refused: {refusal}");
            return null;
        }
        return hello;
    }

    private static string Describe(RpcRead read) => read.Status switch
    {
        RpcFrameStatus.BadLength => "sent a frame length outside the limits (not an Eddy node, or garbage)",
        RpcFrameStatus.BadChecksum => "sent a frame whose checksum does not match",
        RpcFrameStatus.UnsupportedVersion => $"speaks RPC version {read.Frame.Version}, this node {RpcFrame.CurrentVersion}",
        _ => $"sent a frame that could not be read ({read.Status})",
    };

    private static readonly Action<object?> s_handshakeExpired = static state =>
    {
        var silent = (SilentPeer)state!;
        Refuse(silent.Peer, $"said no hello within {silent.Timeout.TotalSeconds:0.###} s");
        silent.Connection.Dispose();
    };

    private sealed record SilentPeer(Connection Connection, string Peer, TimeSpan Timeout);

    private static void Refuse(string peer, string reason) => Log.Warn(Subsystem, $"{peer}: {reason}; connection closed");

    /// <summary>Stops accepting, then closes every connection still open: a stopped node hears nothing more, and its
    /// peers see their connections end (and connect again to whoever listens next).</summary>
    public async ValueTask DisposeAsync()
    {
        await _tcp.DisposeAsync();
        for (int shard = 0; shard < _open.Length; shard++)
        {
            var open = _open[shard];
            await _group.InvokeAsync(shard, () =>
            {
                foreach (var connection in open.ToList())
                {
                    connection.Dispose();
                }
                return default(ValueTask);
            });
        }
    }
}
