using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>
/// Confluent.Kafka produces with acks=0, 1 and all. With acks 1 and all each message is acknowledged with its offset;
/// with acks=0 the broker sends no response, so the client learns no offsets, and the test reads the topic back to
/// see that every message still arrived, once, in the order sent.
/// </summary>
public class AcksTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private const int Messages = 600, Partitions = 3;

    [Theory]
    [InlineData(Acks.None)]
    [InlineData(Acks.Leader)]
    [InlineData(Acks.All)]
    public async Task EveryMessageArrivesWhateverTheAcks(Acks acks)
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        string topic = $"acks-{acks.ToString().ToLowerInvariant()}";
        using (var admin = ConfluentClientTests.Admin(node.Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
        }

        var reports = new List<DeliveryReport<Null, string>>();
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = node.Bootstrap, Acks = acks, LingerMs = 5, BatchNumMessages = 50, MessageTimeoutMs = 30000,
        }).Build())
        {
            for (int i = 0; i < Messages; i++)
            {
                producer.Produce(new TopicPartition(topic, i % Partitions), new Message<Null, string> { Value = $"m{i}" }, report =>
                {
                    lock (reports)
                    {
                        reports.Add(report);
                    }
                });
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }
        Assert.Equal(Messages, reports.Count);
        Assert.All(reports, r => Assert.False(r.Error.IsError, r.Error.ToString()));
        if (acks == Acks.None)
        {
            // Nothing comes back: the client cannot know the offsets.
            Assert.All(reports, r => Assert.True(r.Offset.Value < 0, $"acks=0 reported offset {r.Offset}"));
        }
        else
        {
            Assert.All(reports, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
            foreach (var partition in reports.GroupBy(r => r.Partition.Value))
            {
                Assert.Equal(Enumerable.Range(0, Messages / Partitions).Select(o => (long)o), partition.Select(r => r.Offset.Value).Order());
            }
        }

        // Read back: each message once, each partition in the order sent (message i went to partition i % 3).
        var received = TopicReader.ReadAll(node.Bootstrap, topic, Partitions, awaitTotal: Messages);
        Assert.Equal(Messages, received.Count);
        for (int p = 0; p < Partitions; p++)
        {
            var expected = Enumerable.Range(0, Messages).Where(i => i % Partitions == p).Select(i => $"m{i}");
            var values = received.Where(r => r.Partition.Value == p).OrderBy(r => r.Offset.Value).Select(r => System.Text.Encoding.UTF8.GetString(r.Message.Value!));
            Assert.Equal(expected, values);
        }
    }
}
