using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>
/// Messages at the edge of a topic's max.message.bytes, through Confluent.Kafka. The broker compares the size of
/// the record batch a client sends with the limit: a batch of exactly the limit, or one byte under, is stored; one
/// byte over is refused with MSG_SIZE_TOO_LARGE. The client's own limit (message.max.bytes) refuses larger messages
/// before anything is sent. After each refusal the same producer (same connection) goes on producing, and the topic
/// holds exactly the accepted messages.
/// </summary>
public class MaxMessageBytesTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private const int TopicLimit = 10_000, ClientLimit = 20_000;

    /// <summary>
    /// A value that makes librdkafka's one-record batch (no key, no headers, uncompressed) exactly
    /// <paramref name="batchBytes"/> long: 61 bytes of batch header, then the record: its length varint, attributes,
    /// timestamp delta 0, offset delta 0, key length -1 (one byte each), the value's length varint and the value,
    /// header count 0. Both length varints take 3 bytes for values of 8 KiB to 1 MiB, so the batch is the value
    /// plus 72 bytes; the test checks that against the stored batch's size.
    /// </summary>
    private static string ValueForBatchOf(int batchBytes) => new('x', batchBytes - 72);

    private static IProducer<Null, string> Producer(string bootstrap) => new ProducerBuilder<Null, string>(new ProducerConfig
    {
        BootstrapServers = bootstrap, Acks = Acks.All, LingerMs = 0, MessageTimeoutMs = 30000, CompressionType = CompressionType.None,
        // Above the topic's limit, so that the broker is the one to refuse a message slightly over it.
        MessageMaxBytes = ClientLimit, BatchSize = ClientLimit,
    }).Build();

    [Fact]
    public async Task BatchesUpToTheTopicLimitAreStoredOneByteOverIsRefused()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "max-message-bytes-edge";
        using (var admin = ConfluentClientTests.Admin(node.Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = topic, NumPartitions = 1, ReplicationFactor = 1,
                Configs = new Dictionary<string, string> { ["max.message.bytes"] = TopicLimit.ToString() },
            }]);
        }
        using var producer = Producer(node.Bootstrap);
        var partition = new TopicPartition(topic, 0);

        var underLimit = await producer.ProduceAsync(partition, new Message<Null, string> { Value = ValueForBatchOf(TopicLimit - 1) });
        var atLimit = await producer.ProduceAsync(partition, new Message<Null, string> { Value = ValueForBatchOf(TopicLimit) });
        Assert.Equal((0L, 1L), (underLimit.Offset.Value, atLimit.Offset.Value));

        var refused = await Assert.ThrowsAsync<ProduceException<Null, string>>(
            () => producer.ProduceAsync(partition, new Message<Null, string> { Value = ValueForBatchOf(TopicLimit + 1) }));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, refused.Error.Code);
        Assert.Equal(PersistenceStatus.NotPersisted, refused.DeliveryResult.Status);

        // The same producer, on the same connection, carries on; a refused batch took no offset.
        var after = await producer.ProduceAsync(partition, new Message<Null, string> { Value = "after the refusal" });
        Assert.Equal(2, after.Offset.Value);
        refused = await Assert.ThrowsAsync<ProduceException<Null, string>>(
            () => producer.ProduceAsync(partition, new Message<Null, string> { Value = ValueForBatchOf(TopicLimit + 5000) }));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, refused.Error.Code);
        Assert.Equal(3, (await producer.ProduceAsync(partition, new Message<Null, string> { Value = "after the second refusal" })).Offset.Value);

        // The stored batches are the sizes computed above: the two edge cases really were at the edge.
        var batches = await RawBatches.FetchAsync(node.Server.Port, topic, 0);
        Assert.Equal([TopicLimit - 1, TopicLimit], batches.Take(2).Select(b => b.Size));
        var stored = TopicReader.ReadAll(node.Bootstrap, topic, 1).Select(r => System.Text.Encoding.UTF8.GetString(r.Message.Value!)).ToList();
        Assert.Equal([ValueForBatchOf(TopicLimit - 1), ValueForBatchOf(TopicLimit), "after the refusal", "after the second refusal"], stored);
    }

    [Fact]
    public async Task TheClientRefusesMessagesOverItsOwnLimitBeforeSendingThem()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        // The topic's limit is the default (1 MiB): the broker would take this message, so the refusal is the client's.
        const string topic = "max-message-bytes-client-limit";
        using (var admin = ConfluentClientTests.Admin(node.Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        }
        var partition = new TopicPartition(topic, 0);
        string large = new('y', ClientLimit + 1000);
        using var producer = Producer(node.Bootstrap);
        Assert.Equal(0, (await producer.ProduceAsync(partition, new Message<Null, string> { Value = "before" })).Offset.Value);
        var refused = await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync(partition, new Message<Null, string> { Value = large }));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, refused.Error.Code);
        Assert.Equal(1, (await producer.ProduceAsync(partition, new Message<Null, string> { Value = "after" })).Offset.Value);

        // A client with the default limit (1 MB) sends the same message, and the broker stores it.
        using (var roomy = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = node.Bootstrap, Acks = Acks.All, MessageTimeoutMs = 30000 }).Build())
        {
            Assert.Equal(2, (await roomy.ProduceAsync(partition, new Message<Null, string> { Value = large })).Offset.Value);
        }
        var stored = TopicReader.ReadAll(node.Bootstrap, topic, 1).Select(r => System.Text.Encoding.UTF8.GetString(r.Message.Value!)).ToList();
        Assert.Equal(["before", "after", large], stored);
    }
}
