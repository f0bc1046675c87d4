using System.Buffers;
using System.Net;
using Eddy.Observability;
using Eddy.Raft;
using Eddy.Runtime;

namespace Eddy.Rpc;

/// <summary>
/// This node's outgoing connections to the other nodes, on the one shard that uses them. Raft frames are queued per
/// node and lane and sent in order over the lane's connection, made when first needed and made again after it fails:
/// first after <see cref="RetryInterval"/>, then twice as long after each failure in a row, up to
/// <see cref="MaxRetryInterval"/>, or at once when the node connected to this node's listener meanwhile
/// (<see cref="PeerSightings"/>: it is back). A connect that takes longer than <see cref="ConnectTimeout"/> (a peer
/// behind a cut link) counts as failed. Frames for a node that cannot be reached are dropped: Raft sends again whatever still
/// matters, and a bounded queue (<see cref="MaxQueuedFrames"/>, <see cref="MaxQueuedBytes"/>) keeps a slow or dead node
/// from holding memory. Each node gets two lanes, each its own connection: bulk frames (replicated partitions'
/// batches, snapshots) and the rest (heartbeats, votes, acknowledgements, calls). Heartbeats thus never wait behind
/// megabytes of batches, in this queue or in the sockets' buffers, which under load would make followers call
/// elections; Raft takes messages in any order. Calls (<see cref="CallAsync"/>) share the other lane's connection.
/// </summary>
public sealed class NodeLinks : IDisposable
{
    private const string Subsystem = "rpc";

    /// <summary>Frames waiting for one node; past it the oldest is dropped.</summary>
    public const int MaxQueuedFrames = 4096;

    /// <summary>Bytes of frames waiting for one node; past it the oldest are dropped. Replicated partitions' appends
    /// travel one batch per frame, up to 256 in flight per partition, so the bound is mostly one of bytes.</summary>
    public const long MaxQueuedBytes = 64L << 20;

    /// <summary>How long after a first failed connect the next one to the same node is tried.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between connects to a node that keeps failing.</summary>
    public static readonly TimeSpan MaxRetryInterval = TimeSpan.FromSeconds(4);

    /// <summary>How long a connect (and its hello) may take.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    private readonly RpcOptions _options;
    private readonly Func<int, (string Host, int Port)?> _addressOf;
    private readonly Dictionary<int, Link> _links = new();
    private readonly RpcWriter _writer = new();
    private bool _disposed;

    /// <param name="options">This node's ids.</param>
    /// <param name="addressOf">Where a node's RPC listener is (an address or a host name, resolved at each connect), or
    /// null when it is not known (yet).</param>
    public NodeLinks(RpcOptions options, Func<int, (string Host, int Port)?> addressOf)
    {
        _options = options;
        _addressOf = addressOf;
    }

    /// <summary>Frames sent since start (envelopes and snapshots), for the idle-traffic figures.</summary>
    public long FramesSent { get; private set; }

    /// <summary>Why node <paramref name="node"/> cannot be reached now (the last failure of the lane that carries
    /// heartbeats), or null when it can or was never tried.</summary>
    public string? Unreachable(int node) => _links.TryGetValue(node, out var link) ? link.Urgent.LastError : null;

    /// <summary>Queues one node's envelope; it is encoded at once, so the caller may reuse it. A
    /// <paramref name="bulk"/> one (partitions' appends, whose entries are record batches) goes after every other
    /// frame waiting for that node, with its batches in the frame's tail: their own CRCs guard them, and the frame's
    /// checksum leaves them out.</summary>
    public void Send(NodeEnvelope envelope, bool bulk = false)
    {
        // Written straight into the pooled frame: an append's batches are copied once here, not twice.
        int length = RpcFrame.HeaderBytes + NodeEnvelopeCodec.EncodedLength(envelope);
        int tail = bulk ? NodeEnvelopeCodec.TailLength(envelope) : 0;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        _writer.BeginFrame(buffer);
        NodeEnvelopeCodec.Write(envelope, _writer, dataInTail: bulk);
        int written = RpcFrame.HeaderBytes + _writer.EndFrame();
        Invariant.True(written == length, "an envelope written at another length than the codec reckoned");
        RpcFrame.Seal(buffer.AsSpan(0, length), RpcMessageType.RaftEnvelope, 0, tail: tail);
        Enqueue(envelope.To, new ArraySegment<byte>(buffer, 0, length), bulk);
    }

    /// <summary>Queues a snapshot message for its node.</summary>
    public void SendSnapshot(long group, in Message message)
    {
        _writer.Clear();
        NodeEnvelopeCodec.WriteSnapshot(group, message, _writer);
        Enqueue(message.To, Frame(RpcMessageType.RaftSnapshot), bulk: true);
    }

    /// <summary>Calls <paramref name="method"/> on node <paramref name="node"/>; throws <see cref="RpcUnavailableException"/>
    /// when it cannot be reached or does not answer within <paramref name="timeout"/>.</summary>
    public async ValueTask<RpcReply> CallAsync(int node, RpcMethod method, ReadOnlyMemory<byte> body, TimeSpan timeout)
    {
        if (_disposed)
        {
            throw new RpcUnavailableException("this node's connections are closed");
        }
        var link = LinkTo(node);
        var peer = await ConnectAsync(link, link.Urgent, waitForRetry: false)
            ?? throw new RpcUnavailableException($"node {node} cannot be reached ({link.Urgent.LastError ?? "no address known"})");
        return await peer.CallAsync(method, body, timeout);
    }

    /// <summary>The frame around what <see cref="_writer"/> holds, in a pooled buffer: batches are sent in frames of up to
    /// megabytes, and a fresh array for each would be a large-object allocation (zeroed, often fresh pages) per batch
    /// and follower. The buffer goes back to the pool once sent or dropped.</summary>
    private ArraySegment<byte> Frame(RpcMessageType type)
    {
        int length = RpcFrame.HeaderBytes + _writer.Written.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        RpcFrame.EncodeInto(buffer, type, 0, _writer.Written);
        return new ArraySegment<byte>(buffer, 0, length);
    }

    private static void Release(ArraySegment<byte> frame) => ArrayPool<byte>.Shared.Return(frame.Array!);

    private void Enqueue(int node, ArraySegment<byte> frame, bool bulk)
    {
        if (_disposed)
        {
            Release(frame);
            return;
        }
        var link = LinkTo(node);
        var lane = bulk ? link.Bulk : link.Urgent;
        while (lane.Queue.Count > 0 && (lane.Queue.Count >= MaxQueuedFrames || lane.QueuedBytes + frame.Count > MaxQueuedBytes))
        {
            var dropped = lane.Queue.Dequeue();
            lane.QueuedBytes -= dropped.Count;
            Release(dropped);
        }
        lane.Queue.Enqueue(frame);
        lane.QueuedBytes += frame.Count;
        if (!lane.Draining)
        {
            _ = DrainAsync(link, lane);
        }
    }

    private Link LinkTo(int node)
    {
        if (!_links.TryGetValue(node, out var link))
        {
            _links[node] = link = new Link(node);
        }
        return link;
    }

    private async Task DrainAsync(Link link, Lane lane)
    {
        lane.Draining = true;
        try
        {
            while (lane.Queue.Count > 0 && !_disposed)
            {
                var peer = await ConnectAsync(link, lane, waitForRetry: true);
                if (peer is null)
                {
                    lane.Clear();
                    return;
                }
                if (!lane.Queue.TryDequeue(out var frame))
                {
                    return; // cleared while the connect was in flight (the links are closing)
                }
                lane.QueuedBytes -= frame.Count;
                try
                {
                    await peer.SendFrameAsync(frame);
                    FramesSent++;
                }
                catch (RpcUnavailableException e)
                {
                    Lost(link, lane, e.Message);
                }
                finally
                {
                    Release(frame); // the send is over: the reactor holds no part of the buffer any more
                }
            }
        }
        finally
        {
            lane.Draining = false;
        }
    }

    /// <summary>The lane's open connection, connecting when there is none; null when the node cannot be reached now (no
    /// address, refused, or a failed attempt too recent when <paramref name="waitForRetry"/>).</summary>
    private async ValueTask<RpcPeer?> ConnectAsync(Link link, Lane lane, bool waitForRetry)
    {
        if (lane.Peer is { IsClosed: false } open)
        {
            return open;
        }
        if (lane.Connecting is { } pending)
        {
            await pending;
            return lane.Peer is { IsClosed: false } made ? made : null;
        }
        var shard = Shard.Current!;
        if (waitForRetry && shard.Clock.NowNanos < lane.RetryAtNanos && _options.Sightings.LastOf(link.Node) == lane.SightingAtFailure)
        {
            return null; // unless the node connected to us since: then it is back
        }
        if (_addressOf(link.Node) is not { } where)
        {
            lane.LastError = "no address known";
            return null;
        }
        var connecting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lane.Connecting = connecting.Task;
        string address = $"{where.Host}:{where.Port}";
        try
        {
            var peer = await ConnectWithinTimeoutAsync(await ResolveAsync(where.Host, where.Port), _options);
            if (_disposed)
            {
                peer.Dispose();
                return null;
            }
            if (peer.RemoteNodeId != link.Node)
            {
                peer.Dispose();
                throw new RpcRefusedException($"node {peer.RemoteNodeId} answered at {address}, where node {link.Node} was expected");
            }
            lane.Peer?.Dispose();
            lane.Peer = peer;
            lane.Failures = 0;
            // The node is back: the other lane, if it waits out a back-off from the same outage, connects at its next
            // frame. Otherwise a healed link carried heartbeats (and so kept a leader) for seconds before its appends,
            // which were dropped meanwhile: a leader that could not commit.
            var sibling = lane == link.Urgent ? link.Bulk : link.Urgent;
            if (sibling.Peer is null && sibling.Connecting is null)
            {
                sibling.RetryAtNanos = 0;
                sibling.Failures = 0;
            }
            if (lane.LastError is not null && lane == link.Urgent)
            {
                Log.Info(Subsystem, $"connected to node {link.Node} at {address}");
            }
            lane.LastError = null;
            return peer;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Lost(link, lane, $"{address}: {e.Message}");
            return null;
        }
        finally
        {
            lane.Connecting = null;
            connecting.SetResult();
        }
    }

    /// <summary>An address, or a host name looked up off the shard (only when a connection is made, never per frame).</summary>
    private static async ValueTask<IPEndPoint> ResolveAsync(string host, int port)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return new IPEndPoint(literal, port);
        }
        var addresses = await Dns.GetHostAddressesAsync(host);
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new RpcUnavailableException($"host '{host}' has no address");
        return new IPEndPoint(chosen, port);
    }

    private void Lost(Link link, Lane lane, string reason)
    {
        lane.Peer?.Dispose();
        lane.Peer = null;
        var wait = TimeSpan.FromTicks(Math.Min(MaxRetryInterval.Ticks, RetryInterval.Ticks << Math.Min(lane.Failures, 8)));
        lane.Failures++;
        lane.RetryAtNanos = Shard.Current!.Clock.NowNanos + wait.Ticks * 100;
        lane.SightingAtFailure = _options.Sightings.LastOf(link.Node);
        if (lane.LastError is null && lane == link.Urgent)
        {
            // One line when a node goes away (said by the lane that carries heartbeats), not one per retry while it
            // stays away.
            Log.Warn(Subsystem, $"node {link.Node} unreachable ({reason}); retrying, at most every {MaxRetryInterval.TotalSeconds:0} s");
        }
        lane.LastError = reason;
    }

    /// <summary>A connection and its hello within <see cref="ConnectTimeout"/>, or <see cref="RpcUnavailableException"/>.
    /// The kernel may go on trying for minutes (a peer behind a cut link): the attempt is given up on, and closed if it
    /// ever connects. On the calling shard.</summary>
    internal static async ValueTask<RpcPeer> ConnectWithinTimeoutAsync(IPEndPoint endpoint, RpcOptions options)
    {
        var attempt = RpcPeer.ConnectAsync(endpoint, options).AsTask();
        if (await Task.WhenAny(attempt, Shard.Current!.Delay(ConnectTimeout).AsTask()) != attempt)
        {
            _ = CloseWhenConnectedAsync(attempt);
            throw new RpcUnavailableException($"no connection to {endpoint} within {ConnectTimeout.TotalSeconds:0.###} s");
        }
        return await attempt;
    }

    private static async Task CloseWhenConnectedAsync(Task<RpcPeer> attempt)
    {
        try
        {
            (await attempt).Dispose();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // It failed after all: nothing to close.
        }
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var (_, link) in _links)
        {
            foreach (var lane in (ReadOnlySpan<Lane>)[link.Urgent, link.Bulk])
            {
                lane.Clear();
                lane.Peer?.Dispose();
            }
        }
    }

    private sealed class Link(int node)
    {
        public int Node { get; } = node;
        /// <summary>Heartbeats, votes, acknowledgements and calls.</summary>
        public Lane Urgent { get; } = new();
        /// <summary>Batches and snapshots.</summary>
        public Lane Bulk { get; } = new();
    }

    /// <summary>One queue of frames to a node and the connection it drains into.</summary>
    private sealed class Lane
    {
        public Queue<ArraySegment<byte>> Queue { get; } = new();
        public long QueuedBytes { get; set; }
        public RpcPeer? Peer { get; set; }
        public Task? Connecting { get; set; }
        public bool Draining { get; set; }
        public long RetryAtNanos { get; set; }
        /// <summary>The node's last sighting when this lane last failed: a later one ends the back-off.</summary>
        public long SightingAtFailure { get; set; }
        public string? LastError { get; set; }
        public int Failures { get; set; }

        public void Clear()
        {
            while (Queue.TryDequeue(out var frame))
            {
                Release(frame);
            }
            QueuedBytes = 0;
        }
    }
}
