using Eddy.Errors;
using Eddy.Kafka.Protocol.Messages;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// UnregisterBroker removes a node for good: it leaves Metadata, the controller group drops it and promotes a learner
/// in its place, a removed controller leader hands leadership over first, and the removed id is refused afterwards.
/// Six nodes: five controller voters (the cap) and one learner.
/// </summary>
public sealed class NodeRemovalTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(20);

    private static async Task<UnregisterBrokerResponse> UnregisterAsync(EddyCluster cluster, int through, int node)
    {
        using var client = new RawClient(cluster[through].KafkaPort);
        return await client.CallAsync<UnregisterBrokerResponse>(0, 1, new UnregisterBrokerRequest { BrokerId = node });
    }

    private static async Task<bool> BrokersAreAsync(EddyCluster cluster, int through, int[] expected)
    {
        var metadata = await cluster.MetadataAsync(through);
        return metadata is not null && metadata.ControllerId > 0 && metadata.Brokers.Select(b => b.Id).SequenceEqual(expected);
    }

    [Fact]
    public async Task ARemovedVoterIsReplacedByALearnerAndARemovedLeaderHandsOverFirst()
    {
        await using var cluster = await EddyCluster.StartAsync(5);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "5 nodes agree");
        await cluster.JoinNodeAsync();
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "6 nodes agree");
        int leader = (await cluster.MetadataAsync(1))!.ControllerId;
        await cluster[leader].Process!.WaitForOutputAsync("node 6 joins the controller as a learner");
        Assert.DoesNotContain("node 6 caught up: it becomes a controller voter", cluster.Output(leader));

        int voter = leader == 2 ? 3 : 2;
        output.WriteLine($"schedule: 5 seeds, node 6 joins as a learner; UnregisterBroker node {voter} (a voter) through node {leader}; " +
            $"restart node {voter} on its data; UnregisterBroker the controller leader {leader}");
        Assert.Equal(0, (await UnregisterAsync(cluster, leader, voter)).ErrorCode);
        await cluster[leader].Process!.WaitForOutputAsync($"node {voter} was removed: it leaves the controller group");
        await cluster[leader].Process!.WaitForOutputAsync("node 6 caught up: it becomes a controller voter");
        // It learns from its peers, which close its connections and refuse its hellos.
        await cluster[voter].Process!.WaitForOutputAsync($"node {voter} was removed from cluster");
        var remaining = cluster.Nodes.Select(n => n.Id).Where(id => id != voter).ToArray();
        await EddyCluster.WaitUntilAsync(() => BrokersAreAsync(cluster, 6, remaining), Settle, $"node 6 lists every node but {voter}");

        // Removed for good: the id is not taken back, and the node's peers refuse it.
        Assert.Equal(KafkaErrors.BrokerIdNotRegistered, (await UnregisterAsync(cluster, 6, voter)).ErrorCode);
        await cluster.StopNodeAsync(voter);
        await cluster.StartNodeAsync(voter);
        await EddyCluster.WaitUntilAsync(() => Task.FromResult(
            remaining.Any(id => cluster.Output(id).Contains($"node {voter} was removed from cluster", StringComparison.Ordinal))),
            Settle, $"the others refuse node {voter}");

        // The leader itself: it hands leadership to another voter, which removes it.
        Assert.Equal(0, (await UnregisterAsync(cluster, 6, leader)).ErrorCode);
        await cluster[leader].Process!.WaitForOutputAsync("this node was removed: it hands controller leadership to node");
        var left = remaining.Where(id => id != leader).ToArray();
        // The controller id is read once, inside the wait: between elections Metadata names none (-1).
        int next = -1;
        await EddyCluster.WaitUntilAsync(async () => await BrokersAreAsync(cluster, 6, left)
            && (next = (await cluster.MetadataAsync(6))!.ControllerId) > 0 && next != leader, Settle, $"node 6 lists {string.Join(',', left)} and another controller");
        await cluster[next].Process!.WaitForOutputAsync($"node {leader} was removed: it leaves the controller group");
    }

    [Fact]
    public async Task AnUnknownIdOrTheLastNodeIsNotRemoved()
    {
        await using var cluster = await EddyCluster.StartAsync(1);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "the node is up");
        Assert.Equal(KafkaErrors.BrokerIdNotRegistered, (await UnregisterAsync(cluster, 1, 9)).ErrorCode);
        var last = await UnregisterAsync(cluster, 1, 1);
        Assert.Equal(KafkaErrors.InvalidRequest, last.ErrorCode);
        Assert.Contains("last node", last.ErrorMessage);
        Assert.True(await BrokersAreAsync(cluster, 1, [1]));
    }
}
