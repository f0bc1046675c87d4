using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// Partitions with three replicas on three nodes (processes of the published binary): each is a Raft group over its
/// replicas, whose elected leader every node's Metadata names; an idempotent acks=all producer's records survive the
/// SIGKILL of a leader, are read back once each, in order, from the new leaders, and the killed node rejoins as a
/// follower.
/// </summary>
public sealed class ReplicatedPartitionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);
    private EddyCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await EddyCluster.StartAsync(3);
        await EddyCluster.WaitUntilAsync(_cluster.AgreesAsync, Settle, "3 nodes agree");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task WaitForLeadersAsync(string topic, int partitions, IEnumerable<EddyCluster.Node> nodes, int not = 0) => EddyCluster.WaitUntilAsync(async () =>
    {
        foreach (var node in nodes)
        {
            var seen = await _cluster.MetadataAsync(node.Id);
            if (seen is null || !seen.Leaders.TryGetValue(topic, out var leaders) || leaders.Length != partitions || leaders.Any(l => l <= 0 || l == not))
            {
                return false;
            }
        }
        return true;
    }, Settle, $"every node names an elected leader of each partition of '{topic}'{(not > 0 ? $" other than node {not}" : "")}");

    [Fact]
    public async Task AcknowledgedRecordsSurviveTheLeadersSigkillAndAreReadBackOnceInOrder()
    {
        const string Topic = "replicated";
        const int Partitions = 3, PerRound = 300;
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = Partitions, ReplicationFactor = 3 }]);
            var described = (await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([Topic]))).TopicDescriptions.Single();
            Assert.All(described.Partitions, p => Assert.Equal([1, 2, 3], p.Replicas.Select(r => r.Id).Order()));
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

        var read = ReadAll(Topic, Partitions, acknowledged.GroupBy(a => a.Partition).ToDictionary(g => g.Key, g => g.Max(a => a.Offset) + 1));
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

    /// <summary>Every record of each partition below <paramref name="ends"/>, by partition and offset.</summary>
    private Dictionary<(int Partition, long Offset), string> ReadAll(string topic, int partitions, Dictionary<int, long> ends)
    {
        var read = new Dictionary<(int, long), string>();
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = _cluster.Bootstrap, GroupId = "replicated-check", EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var deadline = DateTime.UtcNow + Settle;
        while (ends.Any(e => !read.Keys.Any(k => k.Item1 == e.Key && k.Item2 == e.Value - 1)) && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } record)
            {
                Assert.True(read.TryAdd((record.Partition.Value, record.Offset.Value), record.Message.Value), $"offset {record.Offset} read twice");
            }
        }
        return read;
    }
}
