using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// `__consumer_offsets` with three replicas on three nodes (processes of the published binary): a group's coordinator
/// is the leader of its offsets partition, and when that node is SIGKILLed, the partition's new leader coordinates the
/// group with every offset committed before: a new member of the group resumes where the last one committed, its own
/// commits are kept, and they are still there once the killed node is back.
/// </summary>
public sealed class ReplicatedGroupsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string OffsetsTopic = "__consumer_offsets";
    private const string Topic = "orders";
    private const string Group = "survivors";
    private EddyCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await EddyCluster.StartAsync(3);
        await EddyCluster.WaitUntilAsync(_cluster.AgreesAsync, ReplicatedTopic.Settle, "3 nodes agree");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task CommittedOffsetsSurviveTheCoordinatorsSigkill()
    {
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.Bootstrap }).Build())
        {
            var offsets = (await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([OffsetsTopic]))).TopicDescriptions.Single();
            Assert.All(offsets.Partitions, p => Assert.Equal([1, 2, 3], p.Replicas.Select(r => r.Id).Order()));
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 1, ReplicationFactor = 3 }]);
        }
        await ReplicatedTopic.WaitForLeadersAsync(_cluster, OffsetsTopic, 16, _cluster.Nodes);
        await ReplicatedTopic.WaitForLeadersAsync(_cluster, Topic, 1, _cluster.Nodes);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _cluster.Bootstrap, Acks = Acks.All }).Build())
        {
            for (int i = 0; i < 100; i++)
            {
                producer.Produce(Topic, new Message<Null, string> { Value = $"v{i}" });
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        await ConsumeAndCommitAsync(_cluster.Bootstrap, first: 0, count: 40);
        int victim = await CoordinatorAsync();
        output.WriteLine($"schedule: group '{Group}' committed its first 40 records through coordinator node {victim}; SIGKILL node {victim}; " +
            "a new member resumes there and commits 30 more; the node restarts; the committed offset is read back");
        await _cluster.KillAsync(victim);

        // The group's offsets partition elects a new leader among the survivors, which loads the group from its log.
        string survivors = _cluster.Bootstrap;
        long committedAfter = await ConsumeAndCommitAsync(survivors, first: 40, count: 30);
        int coordinator = await CoordinatorAsync();
        Assert.NotEqual(victim, coordinator);
        output.WriteLine($"node {coordinator} coordinates the group after the SIGKILL");

        await _cluster.StartNodeAsync(victim);
        await ReplicatedTopic.WaitForLeadersAsync(_cluster, OffsetsTopic, 16, _cluster.Nodes);
        using var check = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.Bootstrap }).Build();
        long committed = -1;
        await EddyCluster.WaitUntilAsync(async () =>
        {
            try
            {
                var listed = await check.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(Group, [new TopicPartition(Topic, 0)])]);
                committed = listed.Single().Partitions.Single().Offset.Value;
                return true;
            }
            catch (KafkaException e) when (e.Error.Code is ErrorCode.NotCoordinatorForGroup or ErrorCode.GroupCoordinatorNotAvailable or ErrorCode.GroupLoadInProgress)
            {
                return false;
            }
        }, ReplicatedTopic.Settle, "the committed offsets can be listed");
        Assert.Equal(committedAfter, committed);
    }

    /// <summary>Joins the group, reads <paramref name="count"/> records, which must be the produced ones from number
    /// <paramref name="first"/> on (a replicated log also holds control batches, so offsets are not record numbers),
    /// commits what it read and leaves. Returns the offset it committed.</summary>
    private async Task<long> ConsumeAndCommitAsync(string bootstrap, int first, int count)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = Group, EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 10_000,
        }).Build();
        consumer.Subscribe(Topic);
        var read = new List<(long Offset, string Value)>();
        var deadline = DateTime.UtcNow + ReplicatedTopic.Settle;
        while (read.Count < count && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } record)
            {
                read.Add((record.Offset.Value, record.Message.Value));
            }
        }
        Assert.Equal(count, read.Count);
        Assert.Equal(Enumerable.Range(first, count).Select(i => $"v{i}"), read.Select(r => r.Value));
        var done = new TopicPartitionOffset(Topic, 0, read[^1].Offset + 1);
        // A commit while the coordinator moves fails retriably; the consumer finds the new one and commits again.
        await EddyCluster.WaitUntilAsync(() =>
        {
            try
            {
                consumer.Commit([done]);
                return Task.FromResult(true);
            }
            catch (KafkaException e) when (e.Error.Code is ErrorCode.NotCoordinatorForGroup or ErrorCode.GroupCoordinatorNotAvailable
                or ErrorCode.GroupLoadInProgress or ErrorCode.RequestTimedOut)
            {
                return Task.FromResult(false);
            }
        }, ReplicatedTopic.Settle, "the commit is acknowledged");
        consumer.Close();
        return done.Offset.Value;
    }

    private async Task<int> CoordinatorAsync()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.Bootstrap }).Build();
        var described = await admin.DescribeConsumerGroupsAsync([Group]);
        return described.ConsumerGroupDescriptions.Single().Coordinator.Id;
    }
}
