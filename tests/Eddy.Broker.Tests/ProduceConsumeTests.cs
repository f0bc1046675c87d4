using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>Confluent.Kafka producing to and consuming from the in-process node: offsets, keys, values and headers
/// come back exactly as sent.</summary>
public class ProduceConsumeTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task MessagesComeBackInOrderWithKeysValuesAndHeaders()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "produce-consume-basic";
        using (var admin = ConfluentClientTests.Admin(node.Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 1 }]);
        }
        using var producer = new ProducerBuilder<string?, string?>(new ProducerConfig
        {
            BootstrapServers = node.Bootstrap, Acks = Acks.All, LingerMs = 5, MessageTimeoutMs = 15000,
        }).Build();
        var sent = new List<DeliveryResult<string?, string?>>();
        for (int i = 0; i < 300; i++)
        {
            var headers = new Headers { { "n", Encoding.UTF8.GetBytes(i.ToString()) } };
            var message = new Message<string?, string?> { Key = i % 10 == 0 ? null : $"key-{i % 7}", Value = i % 13 == 0 ? null : $"value-{i}", Headers = headers };
            sent.Add(await producer.ProduceAsync(new TopicPartition(topic, i % 3), message));
        }
        Assert.All(sent, d => Assert.Equal(PersistenceStatus.Persisted, d.Status));
        for (int p = 0; p < 3; p++)
        {
            // Offsets per partition are dense from 0.
            Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), sent.Where(d => d.Partition.Value == p).Select(d => d.Offset.Value));
        }

        using var consumer = new ConsumerBuilder<string?, string?>(new ConsumerConfig
        {
            BootstrapServers = node.Bootstrap, GroupId = "unused", EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign([new TopicPartitionOffset(topic, 0, 0), new TopicPartitionOffset(topic, 1, 0), new TopicPartitionOffset(topic, 2, 0)]);
        var received = new List<ConsumeResult<string?, string?>>();
        var deadline = DateTime.UtcNow + Timeout;
        while (received.Count < sent.Count && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(1));
            if (result is not null)
            {
                received.Add(result);
            }
        }
        Assert.Equal(sent.Count, received.Count);
        foreach (var r in received)
        {
            var original = sent.Single(d => d.Partition == r.Partition && d.Offset == r.Offset);
            Assert.Equal(original.Message.Key, r.Message.Key);
            Assert.Equal(original.Message.Value, r.Message.Value);
            Assert.Equal(original.Message.Headers.GetLastBytes("n"), r.Message.Headers.GetLastBytes("n"));
        }
    }
}
