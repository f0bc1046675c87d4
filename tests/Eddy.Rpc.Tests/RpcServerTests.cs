using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Eddy.Raft;
using Eddy.Rpc;
using Eddy.Runtime;

namespace Eddy.Rpc.Tests;

/// <summary>
/// Two nodes in this process, each its own shard group, on loopback: node 2 connects to node 1's RPC listener, says
/// hello and sends Raft envelopes, which node 1's handler receives as sent. A node of another cluster, an invalid or
/// stolen node id, garbage, a damaged frame, a version not spoken, or a frame other than an envelope closes that
/// connection only: a good peer connecting afterwards is served as before.
/// </summary>
public sealed class RpcServerTests : IAsyncLifetime
{
    private const string Cluster = "c0ffee00-0000-4000-8000-000000000001";

    private readonly ShardGroup _node1 = ShardGroup.Start(new ShardGroupOptions { ShardCount = 2, PinThreads = false });
    private readonly ShardGroup _node2 = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1, PinThreads = false });
    private readonly Inbox _inbox = new();
    private RpcServer _server = null!;

    public async Task InitializeAsync()
        => _server = await RpcServer.StartAsync(_node1, new IPEndPoint(IPAddress.Loopback, 0), new RpcOptions { ClusterId = Cluster, NodeId = 1 }, _inbox);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _node1.Dispose();
        _node2.Dispose();
    }

    private IPEndPoint Endpoint => new(IPAddress.Loopback, _server.Port);

    /// <summary>Connects as <paramref name="nodeId"/> of <paramref name="cluster"/> from node 2's shard and sends the envelopes.</summary>
    private Task<int> ConnectAndSendAsync(string cluster, int nodeId, params NodeEnvelope[] envelopes)
        => _node2.InvokeAsync(0, async () =>
        {
            using var peer = await RpcPeer.ConnectAsync(Endpoint, new RpcOptions { ClusterId = cluster, NodeId = nodeId });
            foreach (var envelope in envelopes)
            {
                await peer.SendAsync(envelope);
            }
            return peer.RemoteNodeId;
        });

    /// <summary>A good peer is still served: its envelope arrives whole.</summary>
    private async Task AssertStillServingAsync()
    {
        var sent = NodeEnvelopeCodecTests.Sample();
        Assert.Equal(1, await ConnectAndSendAsync(Cluster, 2, sent));
        Assert.True(_inbox.Received.TryTake(out var received, TimeSpan.FromSeconds(10)), "the envelope did not arrive");
        Assert.Equal(NodeEnvelopeCodecTests.Describe(sent), NodeEnvelopeCodecTests.Describe(received));
    }

    [Fact]
    public async Task APeerOfTheClusterIsHeardEnvelopeByEnvelope()
    {
        var first = NodeEnvelopeCodecTests.Sample();
        var second = NodeEnvelopeCodecTests.Sample();
        Assert.Equal(1, await ConnectAndSendAsync(Cluster, 2, first, second));
        foreach (var sent in new[] { first, second })
        {
            Assert.True(_inbox.Received.TryTake(out var received, TimeSpan.FromSeconds(10)), "an envelope did not arrive");
            Assert.Equal(NodeEnvelopeCodecTests.Describe(sent), NodeEnvelopeCodecTests.Describe(received));
        }
    }

    [Fact]
    public async Task ACallIsAnsweredOnTheSameConnection()
    {
        var replies = await _node2.InvokeAsync(0, async () =>
        {
            using var peer = await RpcPeer.ConnectAsync(Endpoint, new RpcOptions { ClusterId = Cluster, NodeId = 2 });
            var first = await peer.CallAsync(RpcMethod.ControllerCommand, new byte[] { 1, 2, 3 }, TimeSpan.FromSeconds(10));
            var second = await peer.CallAsync(RpcMethod.ControllerCommand, new byte[] { 9 }, TimeSpan.FromSeconds(10));
            return (first, second);
        });
        Assert.Equal([3, 2, 1], replies.first.Body);
        Assert.Equal([9], replies.second.Body);
        Assert.True(replies.first.Ok && replies.second.Ok);
    }

    [Fact]
    public async Task ANodeWithoutAnIdMayCallButSendsNoRaftTraffic()
    {
        // Node id 0: a node asking to join. Its call is answered; an envelope from it closes its connection.
        var reply = await _node2.InvokeAsync(0, async () =>
        {
            using var peer = await RpcPeer.ConnectAsync(Endpoint, new RpcOptions { ClusterId = "", NodeId = 0 });
            return await peer.CallAsync(RpcMethod.Join, new byte[] { 7, 8 }, TimeSpan.FromSeconds(10));
        });
        Assert.Equal([8, 7], reply.Body);
        await ConnectAndSendAsync("", 0, NodeEnvelopeCodecTests.Sample());
        Assert.False(_inbox.Received.TryTake(out _, TimeSpan.FromMilliseconds(500)), "Raft traffic from a node without an id was handed on");
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("another-cluster", 2, "is not this node's cluster")]
    [InlineData(Cluster, -1, "is not valid")]
    [InlineData(Cluster, 1, "is this node's own")]
    public async Task AHelloThatDoesNotBelongIsRefusedWithTheReason(string cluster, int nodeId, string reason)
    {
        var refused = await Assert.ThrowsAsync<RpcRefusedException>(() => ConnectAndSendAsync(cluster, nodeId));
        Assert.Contains(reason, refused.Message);
        await AssertStillServingAsync();
        Assert.Empty(_inbox.Received);
    }

    public static TheoryData<string, byte[]> BadOpenings => new()
    {
        { "http", "GET / HTTP/1.1\r\nHost: eddy\r\n\r\n"u8.ToArray() },
        { "a huge length", [0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4] },
        // Within the frame limit, but far more than a hello: refused before a buffer grows for it.
        { "a 1 MiB first frame", [0x00, 0x10, 0x00, 0x00, 1, 2, 3, 4] },
        { "a damaged hello", Damaged(Frame(RpcMessageType.Hello, w => new Hello(Cluster, 2).Write(w))) },
        { "the next version", Frame(RpcMessageType.Hello, w => new Hello(Cluster, 2).Write(w), version: (short)(RpcFrame.CurrentVersion + 1)) },
        { "an envelope before the hello", Frame(RpcMessageType.RaftEnvelope, w => NodeEnvelopeCodec.Write(NodeEnvelopeCodecTests.Sample(), w)) },
        { "a hello with trailing bytes", Frame(RpcMessageType.Hello, w => { new Hello(Cluster, 2).Write(w); w.WriteByte(0); }) },
    };

    [Theory]
    [MemberData(nameof(BadOpenings))]
    public async Task ABadOpeningClosesThatConnectionOnly(string what, byte[] bytes)
    {
        Assert.True(await SendRawAndSeeClosedAsync(bytes, expectReply: false), $"{what}: the connection stayed open");
        await AssertStillServingAsync();
        Assert.Empty(_inbox.Received);
    }

    public static TheoryData<string, byte[]> BadFramesAfterHello => new()
    {
        { "garbage", "not a frame at all, just text"u8.ToArray() },
        { "a damaged envelope", Damaged(Frame(RpcMessageType.RaftEnvelope, w => NodeEnvelopeCodec.Write(NodeEnvelopeCodecTests.Sample(), w))) },
        { "an envelope from another node", Frame(RpcMessageType.RaftEnvelope, w => NodeEnvelopeCodec.Write(NodeEnvelopeCodecTests.Sample(from: 3), w)) },
        { "an envelope for another node", Frame(RpcMessageType.RaftEnvelope, w => NodeEnvelopeCodec.Write(NodeEnvelopeCodecTests.Sample(to: 5), w)) },
        { "a second hello", Frame(RpcMessageType.Hello, w => new Hello(Cluster, 2).Write(w)) },
        { "an envelope whose count lies", Frame(RpcMessageType.RaftEnvelope, w => { w.WriteInt32(2); w.WriteInt32(1); w.WriteInt32(int.MaxValue); }) },
    };

    [Theory]
    [MemberData(nameof(BadFramesAfterHello))]
    public async Task ABadFrameAfterTheHelloClosesThatConnectionOnly(string what, byte[] bytes)
    {
        byte[] hello = Frame(RpcMessageType.Hello, w => new Hello(Cluster, 2).Write(w));
        Assert.True(await SendRawAndSeeClosedAsync([.. hello, .. bytes], expectReply: true), $"{what}: the connection stayed open");
        await AssertStillServingAsync();
        Assert.Empty(_inbox.Received);
    }

    [Fact]
    public async Task APeerThatSaysNothingIsClosedAfterTheHandshakeTimeout()
    {
        await using var impatient = await RpcServer.StartAsync(_node1, new IPEndPoint(IPAddress.Loopback, 0),
            new RpcOptions { ClusterId = Cluster, NodeId = 1, HandshakeTimeout = TimeSpan.FromMilliseconds(200) }, _inbox);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, impatient.Port));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int received;
        try
        {
            received = await socket.ReceiveAsync(new byte[16], SocketFlags.None, timeout.Token);
        }
        catch (SocketException)
        {
            received = 0; // reset: closed as well
        }
        Assert.Equal(0, received);
        await AssertStillServingAsync();
    }

    private static byte[] Frame(RpcMessageType type, Action<RpcWriter> write, short version = RpcFrame.CurrentVersion)
    {
        var writer = new RpcWriter();
        write(writer);
        return RpcFrame.Encode(type, 1, writer.Written, version);
    }

    private static byte[] Damaged(byte[] frame)
    {
        frame[^1] ^= 0xFF;
        return frame;
    }

    /// <summary>Sends raw bytes from a plain socket and reads until the server closes: true when it did within 10 s (after
    /// the hello reply, when one is expected).</summary>
    private async Task<bool> SendRawAndSeeClosedAsync(byte[] bytes, bool expectReply)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(Endpoint);
        await socket.SendAsync(bytes);
        var buffer = new byte[4096];
        int total = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    break;
                }
                total += n;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            // Reset by the server: closed as well.
        }
        if (expectReply)
        {
            Assert.Equal(RpcFrameStatus.Ok, RpcFrame.TryRead(buffer.AsSpan(0, total), RpcFrame.DefaultMaxFrameBytes, out var frame, out _));
            Assert.Equal(RpcMessageType.HelloReply, frame.Type);
            Assert.True(HelloReply.Read(buffer.AsSpan(frame.PayloadOffset, frame.PayloadLength)).Accepted);
        }
        return true;
    }
}
