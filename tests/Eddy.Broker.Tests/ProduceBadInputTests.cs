using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Kafka.Server;
using Eddy.Records;

namespace Eddy.Broker.Tests;

/// <summary>
/// Produce requests a client should not send, over a raw socket: a batch whose CRC does not match gets
/// CORRUPT_MESSAGE, a partition index outside the topic UNKNOWN_TOPIC_OR_PARTITION, a write to __consumer_offsets
/// INVALID_TOPIC_EXCEPTION; each only for its own partition (the good partitions of the same request are stored),
/// and the connection goes on serving requests. Meanwhile a Confluent producer and consumer on their own
/// connections keep working while raw sockets also send truncated frames, huge lengths, unknown API keys and garbage.
/// </summary>
public class ProduceBadInputTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private const short ProduceVersion = 9;

    private async Task CreateTopicAsync(string topic, int partitions)
    {
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    private static byte[] Batch(string value)
    {
        var builder = new RecordBatchBuilder();
        builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), default, Encoding.UTF8.GetBytes(value), keyIsNull: true);
        return builder.Finish().ToArray();
    }

    /// <summary>A valid batch with one bit of its last record flipped: the structure parses, the CRC32C does not match.</summary>
    private static byte[] CorruptBatch(string value)
    {
        var batch = Batch(value);
        batch[^2] ^= 0x01;
        Assert.Equal(BatchCheck.BadCrc, RecordBatch.Check(batch, verifyCrc: true, out _));
        return batch;
    }

    private static ProduceRequest Produce(string topic, params (int Partition, byte[] Records)[] partitions) => new()
    {
        Acks = -1, TimeoutMs = 10_000,
        TopicData = [new ProduceRequest.TopicProduceData
        {
            Name = topic,
            PartitionData = [.. partitions.Select(p => new ProduceRequest.PartitionProduceData { Index = p.Partition, Records = p.Records })],
        }],
    };

    private static List<(int Index, short Error, long BaseOffset)> Results(ProduceResponse response) =>
        Assert.Single(response.Responses).PartitionResponses.Select(p => (p.Index, p.ErrorCode, p.BaseOffset)).ToList();

    private static async Task ProduceBadRequestsAsync(RawClient client, string topic, int round)
    {
        int correlation = round * 10;
        // A corrupt batch beside a good one: only the corrupt partition is refused.
        var response = await client.CallAsync<ProduceResponse>(ProduceVersion, ++correlation,
            Produce(topic, (0, CorruptBatch($"corrupt-{round}")), (1, Batch($"good-{round}"))));
        var results = Results(response);
        Assert.Equal((0, KafkaErrors.CorruptMessage), (results[0].Index, results[0].Error));
        Assert.Equal((1, KafkaErrors.None, (long)round), results[1]);

        // Partition indexes outside the topic's two.
        response = await client.CallAsync<ProduceResponse>(ProduceVersion, ++correlation,
            Produce(topic, (2, Batch("no such partition")), (-1, Batch("negative partition")), (0, Batch($"good-{round}"))));
        Assert.Equal([(2, KafkaErrors.UnknownTopicOrPartition), (-1, KafkaErrors.UnknownTopicOrPartition), (0, KafkaErrors.None)],
            Results(response).Select(r => (r.Index, r.Error)));
        Assert.Equal(round, Results(response)[2].BaseOffset); // the corrupt batch took no offset

        // Clients may not write the internal offsets topic.
        response = await client.CallAsync<ProduceResponse>(ProduceVersion, ++correlation, Produce("__consumer_offsets", (0, Batch("not an offset commit"))));
        Assert.Equal(KafkaErrors.InvalidTopic, Assert.Single(Results(response)).Error);
    }

    [Fact]
    public async Task BadProducePartitionsGetTheirErrorsAndTheConnectionStaysUsable()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "produce-bad-partitions";
        await CreateTopicAsync(topic, 2);
        using var client = new RawClient(node.Server.Port);
        for (int round = 0; round < 3; round++)
        {
            await ProduceBadRequestsAsync(client, topic, round);
        }
        // Still the same connection, for another API too.
        await client.CallAsync<MetadataResponse>(12, 1000, new MetadataRequest { Topics = null });
        var stored = TopicReader.ReadAll(node.Bootstrap, topic, 2);
        Assert.Equal(["good-0", "good-1", "good-2"], stored.Where(r => r.Partition.Value == 0).Select(r => Encoding.UTF8.GetString(r.Message.Value!)));
        Assert.Equal(["good-0", "good-1", "good-2"], stored.Where(r => r.Partition.Value == 1).Select(r => Encoding.UTF8.GetString(r.Message.Value!)));
    }

    [Fact]
    public async Task ConfluentClientsKeepWorkingWhileRawSocketsMisbehave()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string traffic = "bystander-traffic", target = "produce-bad-target";
        const int partitions = 3;
        await CreateTopicAsync(traffic, partitions);
        await CreateTopicAsync(target, 2);

        // A consumer on its own connection, reading the producer's traffic as it arrives.
        var consumed = new List<(int Partition, long Offset, string Value)>();
        using var stopConsuming = new CancellationTokenSource();
        var consumer = Task.Run(() =>
        {
            using var c = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = node.Bootstrap, GroupId = "bystander", EnableAutoCommit = false }).Build();
            c.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(traffic, p, 0)));
            while (!stopConsuming.IsCancellationRequested)
            {
                if (c.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } r)
                {
                    lock (consumed)
                    {
                        consumed.Add((r.Partition.Value, r.Offset.Value, r.Message.Value));
                    }
                }
            }
            c.Close();
        });
        using var producer = new SteadyProducer(node.Bootstrap, traffic, partitions, TimeSpan.FromMilliseconds(2));

        await UntilAsync(() => producer.Delivered() >= 100 && Count() >= 100, "traffic before the bad input");

        using var badProducer = new RawClient(node.Server.Port);
        for (int round = 0; round < 3; round++)
        {
            foreach (string name in BadInputTests.Cases)
            {
                using var bad = new RawClient(node.Server.Port);
                bad.Send(BadInputTests.BadBytes(name));
                if (name == "truncated-eof")
                {
                    bad.ShutdownSend();
                }
                Assert.True(await bad.ClosedByBrokerAsync(), $"{name}: the broker kept the connection open");
            }
            await ProduceBadRequestsAsync(badProducer, target, round);
        }
        // Both clients carry on afterwards, and the consumer has seen every message once, at its offset.
        int delivered = producer.Delivered(), read = Count();
        await UntilAsync(() => producer.Delivered() >= delivered + 100 && Count() >= read + 100, "traffic after the bad input");
        var reports = await producer.StopAsync();
        Assert.All(reports, r => Assert.False(r.Error.IsError, r.Error.ToString()));
        await UntilAsync(() => Count() >= reports.Count, "the consumer reads everything produced");
        await stopConsuming.CancelAsync();
        await consumer;
        Assert.Equal(reports.Select(r => (r.Partition.Value, r.Offset.Value, r.Message.Value)).Order(), consumed.Order());

        int Count()
        {
            lock (consumed)
            {
                return consumed.Count;
            }
        }
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 60 s for {what}");
            await Task.Delay(50);
        }
    }
}
