using System.Net;
using System.Net.Sockets;
using Eddy.Rpc;
using Eddy.Runtime;

namespace Eddy.Rpc.Tests;

/// <summary>
/// A link that failed waits out its back-off, dropping what is sent meanwhile, unless its node connects to this node's
/// listener first: that node is back, so the next frame connects at once. Node 1's clock is frozen, so its back-off
/// never runs out on its own and only the sighting can end it.
/// </summary>
public sealed class NodeLinksTests : IAsyncLifetime
{
    private const string Cluster = "c0ffee00-0000-4000-8000-000000000002";

    private readonly ShardGroup _node1 = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1, PinThreads = false, Clock = new ManualClock() });
    private readonly ShardGroup _node2 = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1, PinThreads = false });
    private readonly RpcOptions _options1 = new() { ClusterId = Cluster, NodeId = 1 };
    private readonly Inbox _inbox1 = new();
    private readonly Inbox _inbox2 = new();
    private readonly int _port2 = FreePort();
    private RpcServer _server1 = null!;
    private RpcServer? _server2;
    private NodeLinks _links = null!;

    public async Task InitializeAsync()
    {
        _server1 = await RpcServer.StartAsync(_node1, new IPEndPoint(IPAddress.Loopback, 0), _options1, _inbox1);
        _links = await _node1.InvokeAsync(0, () => new ValueTask<NodeLinks>(new NodeLinks(_options1, node => node == 2 ? ("127.0.0.1", _port2) : null)));
    }

    public async Task DisposeAsync()
    {
        await _node1.InvokeAsync(0, () => { _links.Dispose(); return ValueTask.CompletedTask; });
        await _server1.DisposeAsync();
        if (_server2 is not null)
        {
            await _server2.DisposeAsync();
        }
        _node1.Dispose();
        _node2.Dispose();
    }

    [Fact]
    public async Task ALinkWaitingOutItsBackOffConnectsAtOnceOnceItsNodeConnectsToUs()
    {
        // Nothing listens on node 2's port yet: the first frame fails the link.
        await SendTo2Async();
        await WaitAsync(async () => await _node1.InvokeAsync(0, () => new ValueTask<string?>(_links.Unreachable(2))) is not null, "the link to node 2 fails");

        _server2 = await RpcServer.StartAsync(_node2, new IPEndPoint(IPAddress.Loopback, _port2), new RpcOptions { ClusterId = Cluster, NodeId = 2 }, _inbox2);
        // Within the back-off (the clock stands still), a frame is dropped without a connection.
        Assert.Equal(0L, await SendTo2Async());
        Assert.False(_inbox2.Received.TryTake(out _, TimeSpan.FromMilliseconds(300)), "a frame went out during the back-off");

        // Node 2 connects to node 1 and is heard: it is back, and the next frame goes to it at once.
        await _node2.InvokeAsync(0, async () =>
        {
            using var peer = await RpcPeer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _server1.Port), new RpcOptions { ClusterId = Cluster, NodeId = 2 });
            await peer.SendAsync(NodeEnvelopeCodecTests.Sample(from: 2, to: 1));
        });
        Assert.True(_inbox1.Received.TryTake(out _, TimeSpan.FromSeconds(10)), "node 1 did not hear node 2");
        await SendTo2Async();
        Assert.True(_inbox2.Received.TryTake(out var received, TimeSpan.FromSeconds(10)), "the frame after the sighting did not reach node 2");
        Assert.Equal(NodeEnvelopeCodecTests.Describe(NodeEnvelopeCodecTests.Sample(from: 1, to: 2)), NodeEnvelopeCodecTests.Describe(received));
    }

    /// <summary>Sends a sample envelope to node 2 from node 1's links; the frames sent so far, right after the send.</summary>
    private Task<long> SendTo2Async() => _node1.InvokeAsync(0, () =>
    {
        _links.Send(NodeEnvelopeCodecTests.Sample(from: 1, to: 2));
        return new ValueTask<long>(_links.FramesSent);
    });

    private static async Task WaitAsync(Func<Task<bool>> done, string what)
    {
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10); !await done(); await Task.Delay(20))
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within 10 s: {what}");
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
