using System.Net;
using System.Net.Sockets;
using Eddy.Runtime;

namespace Eddy.Cluster.Tests;

/// <summary>
/// Three controllers in this process (a shard group each, RPC on loopback) that snapshot every 5 commands: a node
/// that was down while the others moved past what their logs still hold catches up from the leader's snapshot, sent
/// over RPC, and a restart afterwards starts from its own stored snapshot.
/// </summary>
public sealed class ControllerSnapshotTests : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"eddy-controller-{Guid.NewGuid():N}");
    private readonly List<ShardGroup> _groups = [];
    private readonly Controller?[] _controllers = new Controller?[3];
    private readonly int[] _ports = EddyCluster.FreePorts(3);

    private string Seeds => string.Join(',', _ports.Select(p => $"127.0.0.1:{p}"));

    private async Task<Controller> StartAsync(int node)
    {
        var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1, PinThreads = false });
        _groups.Add(group);
        var options = new ControllerOptions { RpcAddress = new IPEndPoint(IPAddress.Loopback, _ports[node - 1]), Seeds = Seeds.Split(','), SnapshotEveryEntries = 5 };
        var controller = await Controller.StartAsync(group, options, Path.Combine(_root, $"node{node}"));
        _controllers[node - 1] = controller;
        return controller;
    }


    [Fact]
    public async Task ANodeThatMissedWhatTheLogsNoLongerHoldCatchesUpFromTheSnapshot()
    {
        var started = await Task.WhenAll(Enumerable.Range(1, 3).Select(StartAsync));
        foreach (var controller in started)
        {
            await controller.WaitFormedAsync(TimeSpan.FromSeconds(15));
        }
        await started[2].StopAsync();
        var first = started[0];
        var firstGroup = _groups[0];
        for (int i = 0; i < 20; i++)
        {
            await firstGroup.InvokeAsync(Controller.Shard, async () => await first.ExecuteAsync(ControllerCommand.ReserveProducerIds(1, 10)));
        }
        long expected = first.View.NextProducerId;
        Assert.Equal(200, expected);

        var third = await StartAsync(3);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (third.View.NextProducerId != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, "node 3 did not catch up");
            await Task.Delay(20);
        }
        Assert.Equal(first.ClusterId, third.ClusterId);

        // The snapshot is its own now: alone (no leader to hear from), a restart knows everything it knew.
        await third.StopAsync();
        await started[1].StopAsync();
        await first.StopAsync();
        var again = await StartAsync(3);
        await again.WaitReplayedAsync();
        Assert.Equal(expected, again.View.NextProducerId);
        Assert.Equal(first.ClusterId, again.ClusterId);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var controller in _controllers)
        {
            if (controller is not null)
            {
                await controller.StopAsync();
            }
        }
        foreach (var group in _groups)
        {
            group.Dispose();
        }
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
