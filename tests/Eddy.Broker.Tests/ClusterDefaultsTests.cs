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
/// setting. A broker named by its id takes no overrides, a bad value is INVALID_CONFIG, read-only configs stay refused,
/// and AlterConfigs replaces the defaults' whole set. A node of its own: the change is cluster-wide.
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

        Assert.Equal(42, await AlterAsync("num.partitions", 0, "5", broker: "1"));   // no per-broker overrides
        Assert.Equal(40, await AlterAsync("num.partitions", 0, "0"));                 // INVALID_CONFIG: out of bounds
        Assert.Equal(40, await AlterAsync("auto.create.topics.enable", 2, "x"));      // APPEND on a config that is no list
        Assert.Equal(42, await AlterAsync("log.retention.ms", 0, "1000"));            // read-only

        Assert.Equal(0, await AlterAsync("num.partitions", 1, null));
        Assert.Empty(await ClusterDefaultsAsync());
        own = (await admin.DescribeConfigsAsync([broker])).Single().Entries;
        Assert.Equal(("1", ConfigSource.DefaultConfig), (own["num.partitions"].Value, own["num.partitions"].Source));
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
}
