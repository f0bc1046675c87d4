using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// Partitions with three replicas on three nodes (processes of the published binary): each is a Raft group over its
/// replicas, whose elected leader every node's Metadata names; an idempotent acks=all producer's records survive the
/// SIGKILL of a leader, are read back once each, in order, from the new leaders, and the killed node rejoins as a
/// follower and, once caught up, gets its leaderships back; a rolling restart (SIGTERM, each node in turn) fails no produce, since each stopping node hands its
/// leaderships away first; a follower that stops answering leaves the in-sync replicas, and acks=all then gets
/// NOT_ENOUGH_REPLICAS under min.insync.replicas=3 until it is back. Where replicated logs start and what compaction
/// keeps: <see cref="ReplicatedLogStartTests"/>.
/// </summary>
public sealed class ReplicatedPartitionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Settle = ReplicatedTopic.Settle;
    private const int LagMs = 1500;
    private EddyCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await EddyCluster.StartAsync(3, "--replica-lag-time-max-ms", LagMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await EddyCluster.WaitUntilAsync(_cluster.AgreesAsync, Settle, "3 nodes agree");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task WaitForLeadersAsync(string topic, int partitions, IEnumerable<EddyCluster.Node> nodes)
        => ReplicatedTopic.WaitForLeadersAsync(_cluster, topic, partitions, nodes);

    [Fact]
    public async Task AcknowledgedRecordsSurviveTheLeadersSigkillAndAreReadBackOnceInOrder()
    {
        const string Topic = "replicated";
        const int Partitions = 3, PerRound = 300;
        int[] preferred;
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = Partitions, ReplicationFactor = 3 }]);
            var described = (await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([Topic]))).TopicDescriptions.Single();
            Assert.All(described.Partitions, p => Assert.Equal([1, 2, 3], p.Replicas.Select(r => r.Id).Order()));
            preferred = [.. described.Partitions.OrderBy(p => p.Partition).Select(p => p.Replicas[0].Id)];
        }
        await WaitForLeadersAsync(Topic, Partitions, _cluster.Nodes);

        var acknowledged = new List<(int Partition, long Offset, string Value)>();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 5, MessageTimeoutMs = 60_000,
        }).Build();
        async Task ProduceRoundAsync(int round)
        {
            var sends = Enumerable.Range(0, PerRound).Select(i => producer.ProduceAsync(Topic, new Message<string, string> { Key = $"k{i}", Value = $"r{round}-{i}" })).ToList();
            foreach (var sent in sends)
            {
                var result = await sent;
                Assert.Equal(PersistenceStatus.Persisted, result.Status);
                acknowledged.Add((result.Partition.Value, result.Offset.Value, result.Message.Value));
            }
        }
        await ProduceRoundAsync(0);

        int victim = (await _cluster.MetadataAsync(1))!.Leaders[Topic][0];
        output.WriteLine($"schedule: {PerRound} records acknowledged; SIGKILL node {victim} (leads partition 0); {PerRound} more produced " +
            $"while it is down; node {victim} restarted; {PerRound} more; everything read back from the leaders");
        await _cluster.KillAsync(victim);
        var survivors = _cluster.Nodes.Where(n => n.IsRunning).ToList();
        var failover = await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(survivors[0].Id))?.Leaders[Topic][0] is int l && l > 0 && l != victim,
            Settle, "partition 0 elects another leader");
        output.WriteLine($"partition 0 reported a new leader {failover.TotalMilliseconds:0} ms after the SIGKILL");
        await ProduceRoundAsync(1);

        await _cluster.StartNodeAsync(victim);
        await WaitForLeadersAsync(Topic, Partitions, _cluster.Nodes);
        await ProduceRoundAsync(2);
        // Once back and caught up, the restarted node gets the leadership it was placed to have.
        var back = await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(victim))!.Leaders[Topic].SequenceEqual(preferred),
            Settle, $"every partition led by its preferred replica ({string.Join(',', preferred)}) again");
        output.WriteLine($"leaderships back on their preferred replicas {back.TotalMilliseconds:0} ms after the last round");

        var read = ReplicatedTopic.ReadAll(_cluster.Bootstrap, Topic, ReplicatedTopic.Ends(acknowledged));
        foreach (var (partition, offset, value) in acknowledged)
        {
            Assert.True(read.TryGetValue((partition, offset), out var found), $"acknowledged {value} at {partition}/{offset} is missing");
            Assert.Equal(value, found);
        }
        var values = read.Values.Where(v => v.StartsWith('r')).ToList();
        Assert.Equal(values.Count, values.Distinct().Count());
        Assert.Equal(3 * PerRound, values.Count);
        // Each key's records come back in the order they were produced (one key, one partition).
        foreach (var perPartition in read.GroupBy(r => r.Key.Partition))
        {
            var rounds = perPartition.OrderBy(r => r.Key.Offset).Select(r => int.Parse(r.Value.Split('-')[0][1..])).ToList();
            Assert.Equal(rounds.Order(), rounds);
        }
    }

    [Fact]
    public async Task ARollingRestartFailsNoProduceAndLosesNothing()
    {
        const string Topic = "rolling";
        const int Partitions = 3;
        await CreateAsync(Topic, Partitions);
        await WaitForLeadersAsync(Topic, Partitions, _cluster.Nodes);
        var acknowledged = new List<(int Partition, long Offset, string Value)>();
        var failures = new List<string>();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 2, MessageTimeoutMs = 60_000,
        }).Build();
        using var stop = new CancellationTokenSource();
        var producing = Task.Run(async () =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    var result = await producer.ProduceAsync(Topic, new Message<string, string> { Key = $"k{i % 17}", Value = $"v{i}" });
                    lock (acknowledged) acknowledged.Add((result.Partition.Value, result.Offset.Value, result.Message.Value));
                }
                catch (ProduceException<string, string> e)
                {
                    lock (failures) failures.Add($"v{i}: {e.Error.Code} {e.Error.Reason}");
                }
            }
        });
        output.WriteLine("schedule: a producer keeps sending; nodes 1, 2, 3 in turn get SIGTERM, then start again once the others lead");
        for (int node = 1; node <= 3; node++)
        {
            int before = acknowledged.Count;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await _cluster.StopNodeAsync(node);
            output.WriteLine($"node {node} stopped in {clock.ElapsedMilliseconds} ms");
            await _cluster.StartNodeAsync(node);
            await WaitForLeadersAsync(Topic, Partitions, _cluster.Nodes);
            await EddyCluster.WaitUntilAsync(() => Task.FromResult(acknowledged.Count > before + 50), Settle, "produces go on");
        }
        stop.Cancel();
        await producing;
        Assert.Empty(failures);
        var read = ReplicatedTopic.ReadAll(_cluster.Bootstrap, Topic, ReplicatedTopic.Ends(acknowledged));
        foreach (var (partition, offset, value) in acknowledged)
        {
            Assert.True(read.TryGetValue((partition, offset), out var found), $"acknowledged {value} at {partition}/{offset} is missing");
            Assert.Equal(value, found);
        }
        Assert.Equal(read.Count, read.Values.Distinct().Count());
    }

    [Fact]
    public async Task AFollowerThatStopsAnsweringLeavesTheInSyncReplicasAndAcksAllWaitsForItsReturn()
    {
        const string Topic = "insync";
        await CreateAsync(Topic, 1, new Dictionary<string, string> { ["min.insync.replicas"] = "3" });
        await WaitForLeadersAsync(Topic, 1, _cluster.Nodes);
        await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(1))!.InSync[Topic][0].Length == 3, Settle, "all three replicas in sync");
        int leader = (await _cluster.MetadataAsync(1))!.Leaders[Topic][0];
        int follower = leader % 3 + 1;
        using var acksAll = new ProducerBuilder<string, string>(new ProducerConfig
        {
            // No retries: librdkafka retries NOT_ENOUGH_REPLICAS until the message times out, which would hide it.
            BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, MessageTimeoutMs = 10_000, MessageSendMaxRetries = 0,
        }).Build();
        Assert.Equal(PersistenceStatus.Persisted, (await acksAll.ProduceAsync(Topic, new Message<string, string> { Key = "k", Value = "before" })).Status);

        output.WriteLine($"schedule: SIGSTOP follower node {follower} of leader {leader} (lag {LagMs} ms); acks=all and acks=1 produced; SIGCONT");
        _cluster[follower].Process!.Signal(19);
        try
        {
            await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(leader))!.InSync[Topic][0].Length == 2, Settle, "the stopped follower leaves the isr");
            Assert.DoesNotContain(follower, (await _cluster.MetadataAsync(leader))!.InSync[Topic][0]);
            var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() => acksAll.ProduceAsync(Topic, new Message<string, string> { Key = "k", Value = "refused" }));
            Assert.Equal(ErrorCode.NotEnoughReplicas, refused.Error.Code);
            using var acksOne = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _cluster[leader].Bootstrap, Acks = Acks.Leader }).Build();
            Assert.Equal(PersistenceStatus.Persisted, (await acksOne.ProduceAsync(Topic, new Message<string, string> { Key = "k", Value = "acks-1" })).Status);
        }
        finally
        {
            _cluster[follower].Process!.Signal(18);
        }
        await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(leader))!.InSync[Topic][0].Length == 3, Settle, "the follower is back in sync");
        Assert.Equal(PersistenceStatus.Persisted, (await acksAll.ProduceAsync(Topic, new Message<string, string> { Key = "k", Value = "after" })).Status);
    }

    private Task CreateAsync(string topic, int partitions, Dictionary<string, string>? configs = null)
        => ReplicatedTopic.CreateAsync(_cluster, topic, partitions, configs);
}
