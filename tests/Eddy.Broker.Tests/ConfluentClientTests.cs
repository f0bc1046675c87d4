using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>The real Confluent.Kafka client (its bundled librdkafka 2.16) against the in-process node.</summary>
public class ConfluentClientTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    internal static void AssertBundledLibrdkafka()
    {
        // BundledLibrdkafka resolves "librdkafka" to the package's copy in runtimes/linux-x64/native; the version
        // check catches a system copy (Debian's) being loaded instead.
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "librdkafka.so")));
        Assert.StartsWith("2.16", Library.VersionString);
    }

    internal static IAdminClient Admin(string bootstrap) => new AdminClientBuilder(new AdminClientConfig
    {
        BootstrapServers = bootstrap, ClientId = "eddy-broker-tests",
        // Fail fast instead of retrying quietly for minutes if the broker misbehaves.
        SocketTimeoutMs = 10000, ReconnectBackoffMaxMs = 1000,
    }).Build();

    [Fact]
    public void GetMetadataReturnsThisBrokerAndItsTopics()
    {
        AssertBundledLibrdkafka();
        using var admin = Admin(node.Bootstrap);
        var metadata = admin.GetMetadata(Timeout);
        var broker = Assert.Single(metadata.Brokers);
        Assert.Equal(BrokerFixture.NodeId, broker.BrokerId);
        Assert.Equal("127.0.0.1", broker.Host);
        Assert.Equal(node.Server.Port, broker.Port);
        // librdkafka names the connection that answered: the broker's id, or -1 when the answer came over the
        // bootstrap connection before the client learned that id (timing decides which).
        Assert.Contains(metadata.OriginatingBrokerId, new[] { BrokerFixture.NodeId, -1 });
        Assert.Equal(node.Broker.Table.Topics.ByName.Keys.Order(), metadata.Topics.Select(t => t.Topic).Order());
    }

    [Fact]
    public void MetadataForAnUnknownTopicCreatesItInDevelopmentMode()
    {
        AssertBundledLibrdkafka();
        using var admin = Admin(node.Bootstrap);
        var metadata = admin.GetMetadata("created-by-metadata", Timeout);
        var topic = Assert.Single(metadata.Topics);
        Assert.Equal(("created-by-metadata", ErrorCode.NoError), (topic.Topic, topic.Error.Code));
        var partition = Assert.Single(topic.Partitions);
        Assert.Equal(BrokerFixture.NodeId, partition.Leader);
    }

    [Fact]
    public async Task DescribeClusterNamesTheClusterAndThisNodeAsController()
    {
        // librdkafka answers DescribeCluster from a Metadata request, so this reads ClusterId and ControllerId.
        AssertBundledLibrdkafka();
        using var admin = Admin(node.Bootstrap);
        var cluster = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = Timeout });
        Assert.Equal(node.Broker.Controller.ClusterId, cluster.ClusterId);
        Assert.Equal(BrokerFixture.NodeId, cluster.Controller?.Id);
        var broker = Assert.Single(cluster.Nodes);
        Assert.Equal(node.Server.Port, broker.Port);
    }

    [Fact]
    public async Task DescribeConsumerGroupsNamesEachMembersClientIdAndHost()
    {
        AssertBundledLibrdkafka();
        const string topic = "describe-group-host";
        const string group = "describe-group-host-group";
        using var admin = Admin(node.Bootstrap);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 1 }]);
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = node.Bootstrap, GroupId = group, ClientId = "host-check", SessionTimeoutMs = 10000,
        }).Build();
        consumer.Subscribe(topic);
        var deadline = DateTime.UtcNow + Timeout;
        while (consumer.Assignment.Count == 0 && DateTime.UtcNow < deadline)
        {
            consumer.Consume(TimeSpan.FromMilliseconds(200)); // polls the group protocol until partitions are assigned
        }
        Assert.Equal(2, consumer.Assignment.Count);
        var described = await admin.DescribeConsumerGroupsAsync([group], new DescribeConsumerGroupsOptions { RequestTimeout = Timeout });
        var description = Assert.Single(described.ConsumerGroupDescriptions);
        var member = Assert.Single(description.Members);
        Assert.Equal("host-check", member.ClientId);
        Assert.Equal("/127.0.0.1", member.Host); // Kafka's form: the peer address after a slash
        Assert.Equal(2, member.Assignment.TopicPartitions.Count);
        consumer.Close();
    }
}
