using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Eddy.Cluster;

namespace Eddy.Broker.Tests;

/// <summary>The admin APIs through Confluent.Kafka's AdminClient (its bundled librdkafka 2.16) against the in-process node.</summary>
public class AdminTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static ConfigResource TopicResource(string name) => new() { Type = ResourceType.Topic, Name = name };

    private static async Task<Dictionary<string, ConfigEntryResult>> DescribeAsync(IAdminClient admin, ConfigResource resource)
    {
        var results = await admin.DescribeConfigsAsync([resource], new DescribeConfigsOptions { RequestTimeout = Timeout });
        return Assert.Single(results).Entries;
    }

    private static async Task CreateAsync(IAdminClient admin, string topic, int partitions = 1, Dictionary<string, string>? configs = null)
        => await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1, Configs = configs }]);

    /// <summary>The partition's log options as its shard has them: what a config change must reach.</summary>
    private Task<Storage.LogOptions> LogOptionsAsync(string topic, int partition)
        => node.Broker.Group.InvokeAsync(node.Broker.Router.ShardOf(topic, partition), () =>
        {
            Assert.True(node.Broker.Router.TryGetLocal(topic, partition, out var found));
            return found.LogOptions;
        });

    [Fact]
    public async Task TopicConfigsAreDescribedAlteredIncrementallyAndReplacedWhole()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "admin-configs";
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        await CreateAsync(admin, topic, configs: new() { [TopicConfigs.RetentionMs] = "3600000" });

        var configs = await DescribeAsync(admin, TopicResource(topic));
        Assert.Equal(TopicConfigs.All.Select(c => c.Name).Order(), configs.Keys.Order());
        Assert.Equal(("3600000", ConfigSource.DynamicTopicConfig, false), (configs["retention.ms"].Value, configs["retention.ms"].Source, configs["retention.ms"].IsDefault));
        Assert.Equal(("134217728", ConfigSource.DefaultConfig, true), (configs["segment.bytes"].Value, configs["segment.bytes"].Source, configs["segment.bytes"].IsDefault));
        Assert.All(configs.Values, c => Assert.False(c.IsReadOnly || c.IsSensitive));

        await admin.IncrementalAlterConfigsAsync(new()
        {
            [TopicResource(topic)] =
            [
                new ConfigEntry { Name = "max.message.bytes", Value = "50000", IncrementalOperation = AlterConfigOpType.Set },
                new ConfigEntry { Name = "retention.ms", IncrementalOperation = AlterConfigOpType.Delete },
                new ConfigEntry { Name = "cleanup.policy", Value = "compact", IncrementalOperation = AlterConfigOpType.Append },
            ],
        });
        configs = await DescribeAsync(admin, TopicResource(topic));
        Assert.Equal(("50000", ConfigSource.DynamicTopicConfig), (configs["max.message.bytes"].Value, configs["max.message.bytes"].Source));
        Assert.Equal(("604800000", ConfigSource.DefaultConfig), (configs["retention.ms"].Value, configs["retention.ms"].Source));
        Assert.Equal(("delete,compact", ConfigSource.DynamicTopicConfig), (configs["cleanup.policy"].Value, configs["cleanup.policy"].Source));
        var log = await LogOptionsAsync(topic, 0);
        Assert.Equal((Storage.CleanupPolicy.Delete | Storage.CleanupPolicy.Compact, TimeSpan.FromDays(7)), (log.CleanupPolicy, log.RetentionTime));

        await admin.IncrementalAlterConfigsAsync(new()
        {
            [TopicResource(topic)] = [new ConfigEntry { Name = "cleanup.policy", Value = "delete", IncrementalOperation = AlterConfigOpType.Subtract }],
        });
        Assert.Equal("compact", (await DescribeAsync(admin, TopicResource(topic)))["cleanup.policy"].Value);
        Assert.Equal(Storage.CleanupPolicy.Compact, (await LogOptionsAsync(topic, 0)).CleanupPolicy);

        // The legacy AlterConfigs replaces the whole set: what it does not name goes back to the default.
#pragma warning disable CS0618 // AlterConfigsAsync is deprecated in the client, still served by brokers
        await admin.AlterConfigsAsync(new() { [TopicResource(topic)] = [new ConfigEntry { Name = "segment.ms", Value = "1000000" }] });
#pragma warning restore CS0618
        configs = await DescribeAsync(admin, TopicResource(topic));
        Assert.Equal(["segment.ms"], configs.Values.Where(c => c.Source == ConfigSource.DynamicTopicConfig).Select(c => c.Name));
        Assert.Equal(("1000000", "delete", "1048588"), (configs["segment.ms"].Value, configs["cleanup.policy"].Value, configs["max.message.bytes"].Value));
        log = await LogOptionsAsync(topic, 0);
        Assert.Equal((TimeSpan.FromMilliseconds(1000000), Storage.CleanupPolicy.Delete), (log.SegmentAge, log.CleanupPolicy));
        Assert.True(node.Broker.Table.Topics.TryGet(topic, out var info));
        Assert.Equal([new KeyValuePair<string, string>("segment.ms", "1000000")], info.Configs);

        // validateOnly checks and changes nothing.
        await admin.IncrementalAlterConfigsAsync(new()
        {
            [TopicResource(topic)] = [new ConfigEntry { Name = "retention.bytes", Value = "1000", IncrementalOperation = AlterConfigOpType.Set }],
        }, new IncrementalAlterConfigsOptions { ValidateOnly = true });
        var retentionBytes = (await DescribeAsync(admin, TopicResource(topic)))["retention.bytes"];
        Assert.Equal(("-1", ConfigSource.DefaultConfig), (retentionBytes.Value, retentionBytes.Source));

        await admin.DeleteTopicsAsync([topic]);
        var gone = await Assert.ThrowsAsync<DescribeConfigsException>(() => DescribeAsync(admin, TopicResource(topic)));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, Assert.Single(gone.Results).Error.Code);
    }

    [Theory]
    [InlineData("no.such.config", "1", AlterConfigOpType.Set, ErrorCode.InvalidConfig)]
    [InlineData("retention.ms", "soon", AlterConfigOpType.Set, ErrorCode.InvalidConfig)]
    [InlineData("segment.bytes", "1024", AlterConfigOpType.Set, ErrorCode.InvalidConfig)]
    [InlineData("retention.ms", "1000", AlterConfigOpType.Append, ErrorCode.InvalidConfig)]
    [InlineData("cleanup.policy", "shred", AlterConfigOpType.Append, ErrorCode.InvalidConfig)]
    [InlineData("cleanup.policy", "delete", AlterConfigOpType.Subtract, ErrorCode.InvalidConfig)] // leaves an empty policy
    public async Task BadIncrementalChangesAreRefusedAndChangeNothing(string name, string value, AlterConfigOpType operation, ErrorCode expected)
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        string topic = $"admin-bad-{name}-{operation}".Replace('.', '-').ToLowerInvariant();
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        await CreateAsync(admin, topic);
        var refused = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(new()
        {
            [TopicResource(topic)] = [new ConfigEntry { Name = name, Value = value, IncrementalOperation = operation }],
        }));
        Assert.Equal(expected, Assert.Single(refused.Results).Error.Code);
        Assert.True(node.Broker.Table.Topics.TryGet(topic, out var info));
        Assert.Empty(info.Configs);
    }

    [Fact]
    public async Task AlteringAnUnknownTopicIsUnknownTopic()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        var refused = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(new()
        {
            [TopicResource("admin-never-created")] = [new ConfigEntry { Name = "retention.ms", Value = "1000", IncrementalOperation = AlterConfigOpType.Set }],
        }));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, Assert.Single(refused.Results).Error.Code);
    }

    [Fact]
    public async Task TheBrokerDescribesItsConfigsReadOnlyAndRefusesChanges()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        var brokerResource = new ConfigResource { Type = ResourceType.Broker, Name = BrokerFixture.NodeId.ToString() };
        var configs = await DescribeAsync(admin, brokerResource);
        Assert.Equal("7", configs["broker.id"].Value);
        Assert.Equal(Path.GetFullPath(node.DataDirectory), configs["log.dirs"].Value);
        Assert.Equal(("1", ConfigSource.DefaultConfig), (configs["num.partitions"].Value, configs["num.partitions"].Source));
        Assert.Equal("true", configs["auto.create.topics.enable"].Value);
        // The fixture sets 4, not the built-in 16: set in the node's configuration.
        Assert.Equal(("4", ConfigSource.StaticBrokerConfig), (configs["offsets.topic.num.partitions"].Value, configs["offsets.topic.num.partitions"].Source));
        Assert.Equal(("1048588", ConfigSource.DefaultConfig), (configs["message.max.bytes"].Value, configs["message.max.bytes"].Source));
        Assert.Equal("604800000", configs["log.retention.ms"].Value);
        Assert.Equal("134217728", configs["log.segment.bytes"].Value);
        Assert.Equal(BrokerFixture.MaxRequestBytes.ToString(), configs["socket.request.max.bytes"].Value);
        // Read-only but for the cluster-wide defaults that are cluster properties (ClusterDefaultsTests changes them).
        string[] nodeSettings = ["broker.id", "node.id", "log.dirs", "advertised.listeners", "offsets.topic.num.partitions", "offsets.topic.replication.factor",
            "log.retention.check.interval.ms", "socket.request.max.bytes", "delete.topic.enable", "compression.type"];
        Assert.Equal(nodeSettings.Order(), configs.Values.Where(c => c.IsReadOnly).Select(c => c.Name).Order());
        Assert.All(["num.partitions", "auto.create.topics.enable", "default.replication.factor", "log.retention.ms", "min.insync.replicas"],
            name => Assert.False(configs[name].IsReadOnly, name));

        var refused = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(new()
        {
            [brokerResource] = [new ConfigEntry { Name = "log.retention.ms", Value = "1000", IncrementalOperation = AlterConfigOpType.Set }],
        }));
        Assert.Equal(ErrorCode.InvalidRequest, Assert.Single(refused.Results).Error.Code);
        Assert.Contains("log.retention.ms", refused.Results[0].Error.Reason);
    }

    [Fact]
    public async Task CreatePartitionsGrowsATopicAndRefusesShrinkingAndOtherNodes()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "admin-grow";
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        await CreateAsync(admin, topic, partitions: 2);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 5 }], new CreatePartitionsOptions { ValidateOnly = true });
        Assert.Equal(2, Assert.Single(admin.GetMetadata(topic, Timeout).Topics).Partitions.Count);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 4 }]);
        Assert.Equal([0, 1, 2, 3], Assert.Single(admin.GetMetadata(topic, Timeout).Topics).Partitions.Select(p => p.PartitionId).Order());
        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 5, ReplicaAssignments = [[BrokerFixture.NodeId]] }]);

        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = node.Bootstrap, MessageTimeoutMs = 10000 }).Build())
        {
            var delivered = await producer.ProduceAsync(new TopicPartition(topic, 4), new Message<Null, string> { Value = "in a new partition" });
            Assert.Equal((4, 0L), (delivered.Partition.Value, delivered.Offset.Value));
        }

        var shrink = await Assert.ThrowsAsync<CreatePartitionsException>(() => admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 3 }]));
        Assert.Equal(ErrorCode.InvalidPartitions, Assert.Single(shrink.Results).Error.Code);
        var elsewhere = await Assert.ThrowsAsync<CreatePartitionsException>(() => admin.CreatePartitionsAsync(
            [new PartitionsSpecification { Topic = topic, IncreaseTo = 6, ReplicaAssignments = [[BrokerFixture.NodeId + 1]] }]));
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, Assert.Single(elsewhere.Results).Error.Code);
        var unknown = await Assert.ThrowsAsync<CreatePartitionsException>(() => admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "admin-no-such-topic", IncreaseTo = 3 }]));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, Assert.Single(unknown.Results).Error.Code);
        Assert.True(node.Broker.Table.Topics.TryGet(topic, out var info));
        Assert.Equal(5, info.PartitionCount);
    }

    [Fact]
    public async Task DeleteRecordsMovesTheLowWatermarkThatConsumersStartFrom()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "admin-delete-records";
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        await CreateAsync(admin, topic);
        await ProduceAsync(node.Bootstrap, topic, 10);

        var deleted = await admin.DeleteRecordsAsync([new TopicPartitionOffset(topic, 0, 4)]);
        Assert.Equal(4, Assert.Single(deleted).Offset.Value);
        Assert.Equal([4L, 5, 6, 7, 8, 9], ConsumeFromBeginning(node.Bootstrap, topic, 6));

        var beyond = await Assert.ThrowsAsync<DeleteRecordsException>(() => admin.DeleteRecordsAsync([new TopicPartitionOffset(topic, 0, 11)]));
        Assert.Equal(ErrorCode.OffsetOutOfRange, Assert.Single(beyond.Results).Error.Code);
        // Below the current start changes nothing.
        Assert.Equal(4, Assert.Single(await admin.DeleteRecordsAsync([new TopicPartitionOffset(topic, 0, 2)])).Offset.Value);
        // Offset.End (-1) means the high watermark: everything goes.
        Assert.Equal(10, Assert.Single(await admin.DeleteRecordsAsync([new TopicPartitionOffset(topic, 0, Offset.End)])).Offset.Value);

        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = node.Bootstrap, GroupId = "unused" }).Build();
        var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), Timeout);
        Assert.Equal((10L, 10L), (watermarks.Low.Value, watermarks.High.Value));
    }

    [Fact]
    public async Task LoweringMaxMessageBytesRefusesLargerBatches()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "admin-max-message-bytes";
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        await CreateAsync(admin, topic);
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = node.Bootstrap, MessageTimeoutMs = 10000, LingerMs = 0 }).Build();
        string big = new('x', 10_000);
        Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync(topic, new Message<Null, string> { Value = big })).Status);

        await admin.IncrementalAlterConfigsAsync(new()
        {
            [TopicResource(topic)] = [new ConfigEntry { Name = "max.message.bytes", Value = "2000", IncrementalOperation = AlterConfigOpType.Set }],
        });
        var refused = await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync(topic, new Message<Null, string> { Value = big }));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, refused.Error.Code);
        Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync(topic, new Message<Null, string> { Value = "small" })).Status);
    }

    [Fact]
    public async Task LogAppendTimeReplacesTheProducersTimestamps()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "admin-log-append-time";
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        await CreateAsync(admin, topic);
        await admin.IncrementalAlterConfigsAsync(new()
        {
            [TopicResource(topic)] = [new ConfigEntry { Name = "message.timestamp.type", Value = "LogAppendTime", IncrementalOperation = AlterConfigOpType.Set }],
        });
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        DeliveryResult<Null, string> delivered;
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = node.Bootstrap, MessageTimeoutMs = 10000 }).Build())
        {
            var old = new Timestamp(new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            delivered = await producer.ProduceAsync(topic, new Message<Null, string> { Value = "stamped by the broker", Timestamp = old });
        }
        long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = node.Bootstrap, GroupId = "unused" }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var result = consumer.Consume(Timeout);
        Assert.NotNull(result);
        Assert.Equal(TimestampType.LogAppendTime, result.Message.Timestamp.Type);
        Assert.InRange(result.Message.Timestamp.UnixTimestampMs, before, after);
        // The Produce response carries the very stamp the log wrote (librdkafka reports it on the delivery).
        Assert.Equal(TimestampType.LogAppendTime, delivered.Timestamp.Type);
        Assert.Equal(result.Message.Timestamp.UnixTimestampMs, delivered.Timestamp.UnixTimestampMs);
    }

    internal static async Task ProduceAsync(string bootstrap, string topic, int count)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap, MessageTimeoutMs = 10000, Acks = Acks.All }).Build();
        for (int i = 0; i < count; i++)
        {
            await producer.ProduceAsync(new TopicPartition(topic, 0), new Message<Null, string> { Value = $"message {i}" });
        }
    }

    /// <summary>The offsets of the first <paramref name="count"/> records from the log start of partition 0.</summary>
    internal static List<long> ConsumeFromBeginning(string bootstrap, string topic, int count)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "unused" }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var offsets = new List<long>();
        var deadline = DateTime.UtcNow + Timeout;
        while (offsets.Count < count && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { } result)
            {
                offsets.Add(result.Offset.Value);
            }
        }
        return offsets;
    }
}
