using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Eddy.Kafka.Protocol.Messages;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// Topics in a 3-node cluster: created through any node, known to every node, their partitions spread over the nodes;
/// real clients produce to the leaders and a consumer group reads everything back through another node; a partition
/// asked of a node that does not lead it gets NOT_LEADER_OR_FOLLOWER; a replication factor above the node count is
/// refused; topics outlive the controller leader, and CreateTopics works again once another node leads.
/// </summary>
public sealed class ClusterTopicsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);
    private EddyCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await EddyCluster.StartAsync(3);
        await EddyCluster.WaitUntilAsync(_cluster.AgreesAsync, Settle, "3 nodes agree");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static IAdminClient Admin(string bootstrap) => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();

    private Task WaitForTopicEverywhereAsync(string topic, int partitions) => EddyCluster.WaitUntilAsync(async () =>
    {
        foreach (var node in _cluster.Nodes.Where(n => n.IsRunning))
        {
            var seen = await _cluster.MetadataAsync(node.Id);
            if (seen is null || !seen.Leaders.TryGetValue(topic, out var leaders) || leaders.Length != partitions || leaders.Any(l => l <= 0))
            {
                return false;
            }
        }
        return true;
    }, Settle, $"every node knows '{topic}' with {partitions} partitions");

    [Fact]
    public async Task ATopicCreatedThroughOneNodeIsSpreadOverAllAndServedAcrossTheCluster()
    {
        using (var admin = Admin(_cluster[2].Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "spread", NumPartitions = 6, ReplicationFactor = 1 }]);
        }
        await WaitForTopicEverywhereAsync("spread", 6);
        var metadata = (await _cluster.MetadataAsync(3))!;
        var leaders = metadata.Leaders["spread"];
        output.WriteLine($"leaders of spread-0..5: {string.Join(',', leaders)}");
        Assert.Equal([1, 2, 3], leaders.Distinct().Order());
        // Placement evens out what each node is to lead (its preferred leaderships) over all topics, the 16 offsets
        // partitions included; the replicated ones' elected leaders may differ for a while.
        using (var admin = Admin(_cluster[1].Bootstrap))
        {
            var described = await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([.. metadata.Leaders.Keys]));
            var led = described.TopicDescriptions.SelectMany(t => t.Partitions).GroupBy(p => p.Replicas[0].Id).Select(g => g.Count()).ToList();
            Assert.True(led.Count == 3 && led.Max() - led.Min() <= 1, $"partitions placed to be led per node: {string.Join(',', led)}");
        }
        for (int node = 1; node <= 3; node++)
        {
            Assert.Equal(leaders, (await _cluster.MetadataAsync(node))!.Leaders["spread"]);
        }

        const int Count = 600;
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _cluster[1].Bootstrap, Acks = Acks.All }).Build())
        {
            for (int i = 0; i < Count; i++)
            {
                producer.Produce("spread", new Message<string, string> { Key = $"k{i}", Value = $"v{i}" });
            }
            Assert.Equal(0, producer.Flush(Settle));
        }
        var seen = new HashSet<string>();
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = _cluster[3].Bootstrap, GroupId = "across", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build())
        {
            consumer.Subscribe("spread");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (seen.Count < Count && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { } record)
                {
                    Assert.True(seen.Add(record.Message.Value), $"{record.Message.Value} read twice");
                }
            }
            consumer.Commit();
            consumer.Close();
        }
        Assert.Equal(Count, seen.Count);

        // kcat, bootstrapped to node 2 alone, reads every partition from its leader.
        var (code, read, _) = await ChildProcess.RunAsync("kcat", null, "-C", "-b", _cluster[2].Bootstrap, "-t", "spread", "-o", "beginning", "-e", "-q", "-f", "%s\n");
        Assert.Equal(0, code);
        Assert.Equal(Count, read.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task APartitionAskedOfANodeThatDoesNotLeadItGetsNotLeaderOrFollower()
    {
        using (var admin = Admin(_cluster[1].Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "elsewhere", NumPartitions = 3, ReplicationFactor = 1 }]);
        }
        await WaitForTopicEverywhereAsync("elsewhere", 3);
        var leaders = (await _cluster.MetadataAsync(1))!.Leaders["elsewhere"];
        for (int partition = 0; partition < leaders.Length; partition++)
        {
            foreach (var node in _cluster.Nodes)
            {
                using var client = new RawClient(node.KafkaPort);
                var response = await client.CallAsync<ListOffsetsResponse>(6, partition, new ListOffsetsRequest
                {
                    ReplicaId = -1,
                    Topics = [new ListOffsetsRequest.ListOffsetsTopic { Name = "elsewhere", Partitions = [new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = partition, Timestamp = -1 }] }],
                });
                short error = Assert.Single(Assert.Single(response.Topics).Partitions).ErrorCode;
                Assert.Equal(node.Id == leaders[partition] ? (short)0 : (short)6, error);
            }
        }
    }

    [Fact]
    public async Task AReplicationFactorAboveTheNodeCountIsRefused()
    {
        using var admin = Admin(_cluster.Bootstrap);
        var refused = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
            [new TopicSpecification { Name = "too-many", NumPartitions = 1, ReplicationFactor = 4 }]));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, Assert.Single(refused.Results).Error.Code);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "three", NumPartitions = 1, ReplicationFactor = 3 }]);
        await WaitForTopicEverywhereAsync("three", 1);
    }

    [Fact]
    public async Task TopicsOutliveTheControllerLeaderAndCreateTopicsWorksAgainUnderTheNext()
    {
        using (var admin = Admin(_cluster.Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "before", NumPartitions = 3, ReplicationFactor = 1 }]);
        }
        await WaitForTopicEverywhereAsync("before", 3);
        int leader = (await _cluster.MetadataAsync(1))!.ControllerId;
        output.WriteLine($"schedule: SIGKILL controller leader node {leader}, create a topic through the others, restart it");
        await _cluster.KillAsync(leader);
        var survivor = _cluster.Nodes.First(n => n.IsRunning);
        await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(survivor.Id))?.ControllerId is int c && c > 0 && c != leader,
            Settle, "a new controller leader");
        using (var admin = Admin(survivor.Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "after", NumPartitions = 3, ReplicationFactor = 1 }]);
        }
        await WaitForTopicEverywhereAsync("after", 3);
        Assert.Contains("before", (await _cluster.MetadataAsync(survivor.Id))!.Leaders.Keys);

        await _cluster.StartNodeAsync(leader);
        await WaitForTopicEverywhereAsync("after", 3);
        await WaitForTopicEverywhereAsync("before", 3);
    }
}
