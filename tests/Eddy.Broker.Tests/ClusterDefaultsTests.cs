using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Broker.Tests;

/// <summary>
/// Kafka's cluster-wide dynamic broker defaults (the BROKER resource named "", which kafka-configs --entity-default
/// writes; librdkafka cannot name it, so those requests go over a raw socket) reach Eddy's cluster properties:
/// IncrementalAlterConfigs sets num.partitions, DescribeConfigs reports it as a dynamic default on the cluster and (to
/// Confluent.Kafka) on the broker, a topic created with -1 partitions gets it, and deleting it restores the node's
/// setting. A broker named by its id takes no value of its own for a property that is the same on every node, a bad
/// value is INVALID_CONFIG, read-only configs stay refused, and AlterConfigs replaces the defaults' whole set. A
/// per-node property (log_level) set on the broker named by its id is that node's own value, over the cluster's. Topic configs' defaults (log.retention.ms, message.max.bytes,
/// log.message.timestamp.type, ...) reach the topics that do not override them, without a restart. A node of its own:
/// the change is cluster-wide.
/// </summary>
public sealed class ClusterDefaultsTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-defaults-{Guid.NewGuid():N}");
    private EddyProcess _eddy = null!;
    private int _correlation;

    public async Task InitializeAsync() => _eddy = await EddyProcess.StartAsync("--smp", "2", "--kafka-addr", "127.0.0.1:0", "--data-dir", _data);

    public async Task DisposeAsync()
    {
        await _eddy.StopAsync(15);
        _eddy.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private async Task<T> CallAsync<T>(short version, IKafkaMessage request) where T : IKafkaMessage
    {
        using var client = new RawClient(_eddy.Port);
        return await client.CallAsync<T>(version, Interlocked.Increment(ref _correlation), request);
    }

    /// <summary>One IncrementalAlterConfigs of the cluster's defaults (or of broker <paramref name="broker"/>): its error code.</summary>
    private async Task<short> AlterAsync(string name, sbyte operation, string? value, string broker = "")
    {
        var response = await CallAsync<IncrementalAlterConfigsResponse>(1, new IncrementalAlterConfigsRequest
        {
            Resources =
            [
                new IncrementalAlterConfigsRequest.AlterConfigsResource
                {
                    ResourceType = 4, ResourceName = broker,
                    Configs = [new IncrementalAlterConfigsRequest.AlterableConfig { Name = name, ConfigOperation = operation, Value = value }],
                },
            ],
        });
        return Assert.Single(response.Responses).ErrorCode;
    }

    private async Task<List<DescribeConfigsResponse.DescribeConfigsResourceResult>> ClusterDefaultsAsync()
    {
        var response = await CallAsync<DescribeConfigsResponse>(4, new DescribeConfigsRequest
        {
            Resources = [new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 4, ResourceName = "", ConfigurationKeys = null }],
        });
        var result = Assert.Single(response.Results);
        Assert.Equal(0, result.ErrorCode);
        return result.Configs;
    }

    [Fact]
    public async Task NumPartitionsSetOnTheClusterDefaultsIsEveryNodesUntilDeleted()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _eddy.Bootstrap }).Build();
        var broker = new ConfigResource { Type = ResourceType.Broker, Name = "1" };
        Assert.Empty(await ClusterDefaultsAsync());

        Assert.Equal(0, await AlterAsync("num.partitions", 0, "3"));
        var set = Assert.Single(await ClusterDefaultsAsync());
        Assert.Equal(("num.partitions", "3", (sbyte)3, false), (set.Name, set.Value, set.ConfigSource, set.ReadOnly));
        var own = (await admin.DescribeConfigsAsync([broker])).Single().Entries;
        Assert.Equal(("3", ConfigSource.DynamicDefaultBrokerConfig), (own["num.partitions"].Value, own["num.partitions"].Source));

        await admin.CreateTopicsAsync([new TopicSpecification { Name = "defaulted", NumPartitions = -1, ReplicationFactor = -1 }]);
        Assert.Equal(3, Assert.Single(admin.GetMetadata("defaulted", Timeout).Topics).Partitions.Count);

        Assert.Equal(42, await AlterAsync("num.partitions", 0, "5", broker: "1"));   // the same on every node: no broker's own value
        Assert.Equal(40, await AlterAsync("num.partitions", 0, "0"));                 // INVALID_CONFIG: out of bounds
        Assert.Equal(40, await AlterAsync("auto.create.topics.enable", 2, "x"));      // APPEND on a config that is no list
        Assert.Equal(42, await AlterAsync("log.retention.check.interval.ms", 0, "1000")); // read-only

        Assert.Equal(0, await AlterAsync("num.partitions", 1, null));
        Assert.Empty(await ClusterDefaultsAsync());
        own = (await admin.DescribeConfigsAsync([broker])).Single().Entries;
        Assert.Equal(("1", ConfigSource.DefaultConfig), (own["num.partitions"].Value, own["num.partitions"].Source));
    }

    [Fact]
    public async Task APerNodePropertyTakesTheBrokersOwnValueOverTheClusters()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _eddy.Bootstrap }).Build();
        var broker = new ConfigResource { Type = ResourceType.Broker, Name = "1" };
        async Task<ConfigEntryResult> LogLevelAsync() => (await admin.DescribeConfigsAsync([broker])).Single().Entries["log_level"];
        Assert.Equal(("info", ConfigSource.DefaultConfig, false), ((await LogLevelAsync()).Value, (await LogLevelAsync()).Source, (await LogLevelAsync()).IsReadOnly));

        Assert.Equal(0, await AlterAsync("log_level", 0, "warn"));
        Assert.Equal(0, await AlterAsync("log_level", 0, "debug", broker: "1"));
        Assert.Equal(40, await AlterAsync("log_level", 0, "loud", broker: "1"));
        Assert.Equal(("debug", ConfigSource.DynamicBrokerConfig), ((await LogLevelAsync()).Value, (await LogLevelAsync()).Source));
        Assert.Equal([("log_level", "warn")], (await ClusterDefaultsAsync()).Select(c => (c.Name, c.Value)));
        await _eddy.ResetAdminConnectionMidRequestAsync();
        await _eddy.WaitForOutputAsync(" DEBUG "); // this node logs at its own level, debug

        Assert.Equal(0, await AlterAsync("log_level", 1, null, broker: "1"));
        Assert.Equal(("warn", ConfigSource.DynamicDefaultBrokerConfig), ((await LogLevelAsync()).Value, (await LogLevelAsync()).Source));
    }

    [Fact]
    public async Task AlterConfigsOnTheClusterDefaultsReplacesTheirWholeSet()
    {
        Assert.Equal(0, await AlterAsync("num.partitions", 0, "2"));
        var response = await CallAsync<AlterConfigsResponse>(2, new AlterConfigsRequest
        {
            Resources =
            [
                new AlterConfigsRequest.AlterConfigsResource
                {
                    ResourceType = 4, ResourceName = "", Configs = [new AlterConfigsRequest.AlterableConfig { Name = "auto.create.topics.enable", Value = "FALSE" }],
                },
            ],
        });
        Assert.Equal(0, Assert.Single(response.Responses).ErrorCode);
        // num.partitions was not named: it goes back to unset; the boolean is kept in its canonical form.
        Assert.Equal([("auto.create.topics.enable", "false")], (await ClusterDefaultsAsync()).Select(c => (c.Name, c.Value)));
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _eddy.Bootstrap }).Build();
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _eddy.Bootstrap, MessageTimeoutMs = 2000 }).Build();
        await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync("never-auto-created", new Message<Null, string> { Value = "x" }));
        Assert.DoesNotContain(admin.GetMetadata(Timeout).Topics, t => t.Topic == "never-auto-created");
    }

    [Fact]
    public async Task TopicConfigDefaultsSetOnTheClusterReachTopicsThatDoNotOverrideThemWithoutARestart()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _eddy.Bootstrap }).Build();
        await admin.CreateTopicsAsync(
        [
            new TopicSpecification { Name = "follows", NumPartitions = 1, ReplicationFactor = 1 },
            new TopicSpecification
            {
                Name = "overrides", NumPartitions = 1, ReplicationFactor = 1,
                Configs = new() { ["retention.ms"] = "60000", ["message.timestamp.type"] = "CreateTime" },
            },
        ]);
        var old = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.Equal(TimestampType.CreateTime, await ProduceAndReadTimestampAsync("follows", old));

        Assert.Equal(0, await AlterAsync("log.retention.ms", 0, "3600000"));
        Assert.Equal(0, await AlterAsync("log.message.timestamp.type", 0, "LogAppendTime"));
        Assert.Equal(0, await AlterAsync("message.max.bytes", 0, "2000"));
        Assert.Equal(40, await AlterAsync("log.segment.bytes", 0, "1024"));          // below the smallest segment
        Assert.Equal(40, await AlterAsync("log.cleanup.policy", 0, "shred"));

        var topics = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "follows" }, new ConfigResource { Type = ResourceType.Topic, Name = "overrides" }]);
        var follows = topics.Single(t => t.ConfigResource.Name == "follows").Entries;
        var overrides = topics.Single(t => t.ConfigResource.Name == "overrides").Entries;
        Assert.Equal(("3600000", ConfigSource.DynamicDefaultBrokerConfig), (follows["retention.ms"].Value, follows["retention.ms"].Source));
        Assert.Equal(("60000", ConfigSource.DynamicTopicConfig), (overrides["retention.ms"].Value, overrides["retention.ms"].Source));

        // The log's settings follow once this node has brought its partitions to the change: a new append is stamped
        // with the broker's time in the topic that takes the default, and keeps the producer's in the one that overrides it.
        await WaitUntilAsync(async () => await ProduceAndReadTimestampAsync("follows", old) == TimestampType.LogAppendTime);
        Assert.Equal(TimestampType.CreateTime, await ProduceAndReadTimestampAsync("overrides", old));

        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = _eddy.Bootstrap, MessageTimeoutMs = 5000 }).Build();
        var tooLarge = await Assert.ThrowsAsync<ProduceException<Null, byte[]>>(() => producer.ProduceAsync("follows", new Message<Null, byte[]> { Value = new byte[5000] }));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, tooLarge.Error.Code);

        Assert.Equal(0, await AlterAsync("log.message.timestamp.type", 1, null));
        Assert.Equal(0, await AlterAsync("message.max.bytes", 1, null));
        await WaitUntilAsync(async () => await ProduceAndReadTimestampAsync("follows", old) == TimestampType.CreateTime);
        await producer.ProduceAsync("follows", new Message<Null, byte[]> { Value = new byte[5000] });
    }

    /// <summary>Produces one record stamped <paramref name="timestamp"/> and reads it back: the timestamp type it kept.</summary>
    private async Task<TimestampType> ProduceAndReadTimestampAsync(string topic, DateTime timestamp)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _eddy.Bootstrap }).Build();
        var delivered = await producer.ProduceAsync(topic, new Message<Null, string> { Value = "stamped", Timestamp = new Timestamp(timestamp) });
        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = _eddy.Bootstrap, GroupId = $"g-{Guid.NewGuid():N}" }).Build();
        consumer.Assign(delivered.TopicPartitionOffset);
        var read = consumer.Consume(Timeout) ?? throw new TimeoutException($"the record at {delivered.TopicPartitionOffset} was not read back");
        Assert.Equal(read.Message.Timestamp.Type == TimestampType.LogAppendTime, read.Message.Timestamp.UtcDateTime.Year > 2001);
        return read.Message.Timestamp.Type;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the change did not take effect in time");
            await Task.Delay(100);
        }
    }
}
