using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Eddy.Errors;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Records;

namespace Eddy.Broker.Tests;

/// <summary>
/// min.insync.replicas: an acks=all produce to a partition with fewer replicas in sync than the topic asks for gets
/// NOT_ENOUGH_REPLICAS and appends nothing; acks=1 is not held to it; lowering the config lets acks=all through. A topic
/// that sets none takes the node's (min_insync_replicas), which DescribeConfigs reports as the broker's.
/// </summary>
public class MinInsyncReplicasTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private static ProduceRequest Produce(string topic, short acks, string value)
    {
        var builder = new RecordBatchBuilder();
        builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), default, Encoding.UTF8.GetBytes(value), keyIsNull: true);
        return new ProduceRequest
        {
            Acks = acks, TimeoutMs = 10_000,
            TopicData = [new ProduceRequest.TopicProduceData
            {
                Name = topic,
                PartitionData = [new ProduceRequest.PartitionProduceData { Index = 0, Records = builder.Finish().ToArray() }],
            }],
        };
    }

    private static async Task<(short Error, long BaseOffset, string? Message)> ProduceAsync(RawClient client, int correlation, string topic, short acks, string value)
    {
        var response = await client.CallAsync<ProduceResponse>(9, correlation, Produce(topic, acks, value));
        var partition = Assert.Single(Assert.Single(response.Responses).PartitionResponses);
        return (partition.ErrorCode, partition.BaseOffset, partition.ErrorMessage);
    }

    [Fact]
    public async Task AnAcksAllProduceNeedsTheTopicsMinimumOfReplicasInSync()
    {
        string topic = $"min-isr-{Guid.NewGuid():N}";
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = topic, NumPartitions = 1, ReplicationFactor = 1,
            Configs = new Dictionary<string, string> { ["min.insync.replicas"] = "2" },
        }]);
        using var client = new RawClient(node.Server.Port);

        var refused = await ProduceAsync(client, 1, topic, acks: -1, "held back");
        Assert.Equal(KafkaErrors.NotEnoughReplicas, refused.Error);
        Assert.Contains("min.insync.replicas is 2", refused.Message);
        // acks=1 does not wait for the other replicas, so Kafka does not hold it to the minimum; the refused batch took
        // no offset.
        var leaderOnly = await ProduceAsync(client, 2, topic, acks: 1, "leader only");
        Assert.Equal((KafkaErrors.None, 0L), (leaderOnly.Error, leaderOnly.BaseOffset));

        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };
        await admin.IncrementalAlterConfigsAsync(new()
        {
            [resource] = [new ConfigEntry { Name = "min.insync.replicas", Value = "1", IncrementalOperation = AlterConfigOpType.Set }],
        });
        var taken = await ProduceAsync(client, 3, topic, acks: -1, "now enough");
        Assert.Equal((KafkaErrors.None, 1L), (taken.Error, taken.BaseOffset));
    }

    [Fact]
    public async Task ATopicThatSetsNoMinimumTakesTheNodesAndDescribesItAsTheBrokers()
    {
        string data = Path.Combine(Path.GetTempPath(), $"eddy-min-isr-{Guid.NewGuid():N}");
        var strict = await InProcessNode.StartAsync(data, minInsyncReplicas: 2);
        try
        {
            using var admin = ConfluentClientTests.Admin(strict.Bootstrap);
            await admin.CreateTopicsAsync([
                new TopicSpecification { Name = "node-minimum", NumPartitions = 1, ReplicationFactor = 1 },
                new TopicSpecification { Name = "own-minimum", NumPartitions = 1, ReplicationFactor = 1, Configs = new Dictionary<string, string> { ["min.insync.replicas"] = "1" } },
            ]);
            using var client = new RawClient(strict.Server.Port);
            var refused = await ProduceAsync(client, 1, "node-minimum", acks: -1, "held back");
            Assert.Equal(KafkaErrors.NotEnoughReplicas, refused.Error);
            Assert.Contains("min.insync.replicas is 2", refused.Message);
            var taken = await ProduceAsync(client, 2, "own-minimum", acks: -1, "taken");
            Assert.Equal((KafkaErrors.None, 0L), (taken.Error, taken.BaseOffset));

            var described = await admin.DescribeConfigsAsync([
                new ConfigResource { Type = ResourceType.Topic, Name = "node-minimum" },
                new ConfigResource { Type = ResourceType.Broker, Name = BrokerFixture.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            ]);
            var topicEntry = described[0].Entries["min.insync.replicas"];
            Assert.Equal(("2", ConfigSource.StaticBrokerConfig), (topicEntry.Value, topicEntry.Source));
            var brokerEntry = described[1].Entries["min.insync.replicas"];
            Assert.Equal(("2", ConfigSource.StaticBrokerConfig), (brokerEntry.Value, brokerEntry.Source));
        }
        finally
        {
            await strict.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }
}
