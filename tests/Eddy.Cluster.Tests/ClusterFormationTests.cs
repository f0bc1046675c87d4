using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// Nodes started with the same --seeds form one cluster: every node lists every broker and names the same controller;
/// the controller's leader can be killed and another takes over; nodes restart with their ids and data; a node whose
/// data directory was lost cannot take its old id back. Each scenario prints how long the cluster took.
/// </summary>
public sealed partial class ClusterFormationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);

    [GeneratedRegex(@"cluster ([0-9a-f-]{36}) formed")]
    private static partial Regex Formed();

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task NodesStartedWithTheSameSeedsFormOneCluster(int size)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var cluster = await EddyCluster.StartAsync(size);
        var listening = clock.Elapsed;
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, $"{size} nodes agree on the brokers and the controller");
        output.WriteLine($"{size} nodes: every node listening after {listening.TotalMilliseconds:0} ms, all agreeing after {clock.Elapsed.TotalMilliseconds:0} ms");

        var ids = cluster.Nodes.Select(n => ClusterId(cluster, n.Id)).Distinct().ToList();
        Assert.Single(ids);
        var metadata = await cluster.MetadataAsync(2);
        Assert.NotNull(metadata);
        Assert.Equal(2, metadata.AnsweredBy);
        Assert.Equal(cluster.Nodes.Select(n => (n.Id, n.Bootstrap)), metadata.Brokers);
    }

    [Fact]
    public async Task AnotherNodeTakesOverWhenTheControllerLeaderIsKilled()
    {
        await using var cluster = await EddyCluster.StartAsync(3);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "3 nodes agree");
        int leader = (await cluster.MetadataAsync(1))!.ControllerId;
        output.WriteLine($"schedule: SIGKILL controller leader node {leader}, then restart it");

        await cluster.KillAsync(leader);
        var failover = await EddyCluster.WaitUntilAsync(() => cluster.NameAControllerOtherThanAsync(leader), Settle, "the two remaining nodes name a new controller");
        output.WriteLine($"new controller named by both remaining nodes {failover.TotalMilliseconds:0} ms after the kill");

        await cluster.StartNodeAsync(leader);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "the restarted node rejoins and all agree");
        Assert.Equal(ClusterId(cluster, 1), ClusterId(cluster, leader));
    }

    [Fact]
    public async Task AControllerLeaderStoppedWithSigtermHandsLeadershipToAnotherNodeFirst()
    {
        await using var cluster = await EddyCluster.StartAsync(3);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "3 nodes agree");
        int leader = (await cluster.MetadataAsync(1))!.ControllerId;
        output.WriteLine($"schedule: SIGTERM controller leader node {leader}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await cluster.StopNodeAsync(leader);
        Assert.Contains("stopping: handed controller leadership to node", cluster.Output(leader));
        var rest = cluster.Nodes.Where(n => n.Id != leader).ToList();
        foreach (var node in rest)
        {
            var seen = await cluster.MetadataAsync(node.Id);
            Assert.True(seen is { ControllerId: > 0 } && seen.ControllerId != leader, $"node {node.Id} names controller {seen?.ControllerId}");
        }
        output.WriteLine($"the others named the new controller leader {clock.ElapsedMilliseconds} ms after the SIGTERM, the node's stop included");
    }

    [Fact]
    public async Task EachNodeRestartedInTurnRejoinsWithItsIdAndTheClusterKeepsItsId()
    {
        await using var cluster = await EddyCluster.StartAsync(3);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "3 nodes agree");
        string id = ClusterId(cluster, 1);
        foreach (var node in cluster.Nodes)
        {
            output.WriteLine($"schedule: SIGTERM node {node.Id}, start it again");
            await cluster.StopNodeAsync(node.Id);
            await cluster.StartNodeAsync(node.Id);
            await cluster[node.Id].Process!.WaitForOutputAsync($"node {node.Id} up"); // printed just after where it listens
            await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, $"all agree after node {node.Id} restarted");
            Assert.Equal(id, ClusterId(cluster, node.Id));
        }
    }

    [Fact]
    public async Task ANodeWhoseDataWasLostCannotTakeItsOldIdBack()
    {
        await using var cluster = await EddyCluster.StartAsync(3);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "3 nodes agree");
        output.WriteLine("schedule: SIGKILL node 3, delete its data directory, start it again on the same ports");
        await cluster.KillAsync(3);
        Directory.Delete(cluster[3].DataDirectory, recursive: true);

        var node3 = cluster[3];
        using var wiped = new EddyProcess("start", "--smp", "1", "--data-dir", node3.DataDirectory, "--kafka-addr", node3.Bootstrap,
            "--rpc-addr", $"127.0.0.1:{node3.RpcPort}", "--admin-addr", "127.0.0.1:0", "--seeds", cluster.Seeds);
        await wiped.WaitForOutputAsync("a node whose data directory was lost cannot take its old id back");
        Assert.DoesNotContain("up:", wiped.Output);
        // The others refuse it and keep serving each other.
        Assert.Contains("a node whose data directory was lost", cluster.Output(1) + cluster.Output(2));
        Assert.Equal(cluster.Nodes.Select(n => n.Id), (await cluster.MetadataAsync(1))!.Brokers.Select(b => b.Id));
    }

    [Fact]
    public async Task ANodeNotAmongTheSeedsJoinsGetsTheNextIdAndVotes()
    {
        await using var cluster = await EddyCluster.StartAsync(3);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "3 nodes agree");
        var joined = await cluster.JoinNodeAsync();
        Assert.Contains("as node 4", joined.Process!.Output);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "4 nodes agree");
        int leader = (await cluster.MetadataAsync(1))!.ControllerId;
        await cluster[leader].Process!.WaitForOutputAsync("node 4 caught up: it becomes a controller voter");
        Assert.Equal(ClusterId(cluster, 1), ClusterId(cluster, 4));

        // Four voters: with the leader gone, a majority is three, and node 4 must be one of them.
        output.WriteLine($"schedule: node 4 joins; SIGKILL controller leader node {leader}; SIGTERM node 4 and start it again");
        await cluster.KillAsync(leader);
        await EddyCluster.WaitUntilAsync(() => cluster.NameAControllerOtherThanAsync(leader), Settle, "the three others, node 4 among them, elect a new controller leader");

        // A restarted joiner is who it was.
        await cluster.StopNodeAsync(4);
        await cluster.StartNodeAsync(4);
        await cluster[4].Process!.WaitForOutputAsync("node 4 up"); // printed just after where it listens
        Assert.DoesNotContain("joined the cluster through seed", cluster.Output(4));
    }

    [Fact]
    public async Task ANodeAskingToJoinWithAnIdInUseIsRefused()
    {
        await using var cluster = await EddyCluster.StartAsync(3);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "3 nodes agree");
        string data = Path.Combine(Path.GetTempPath(), $"eddy-join-{Guid.NewGuid():N}");
        try
        {
            using var impostor = new EddyProcess("start", "--smp", "1", "--data-dir", data, "--kafka-addr", "127.0.0.1:0", "--rpc-addr", "127.0.0.1:0",
                "--admin-addr", "127.0.0.1:0", "--seeds", cluster.Seeds, "--node-id", "2");
            Assert.Equal(1, await impostor.WaitForExitAsync());
            Assert.Contains("the cluster refused this node", impostor.Output);
            Assert.Contains("node id 2 belongs to", impostor.Output);
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
        Assert.True(await cluster.AgreesAsync());
    }

    private static string ClusterId(EddyCluster cluster, int node)
    {
        var match = Formed().Matches(cluster.Output(node));
        Assert.True(match.Count > 0, $"node {node} never said its cluster formed:\n{cluster.Output(node)}");
        return match[^1].Groups[1].Value;
    }
}
