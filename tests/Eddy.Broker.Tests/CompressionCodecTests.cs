using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>
/// Confluent.Kafka produces with each codec (none, gzip, snappy, lz4, zstd) and reads back every key, value and header
/// exactly as sent, null keys, null values and null header values included; the batches the broker stores carry the
/// codec the client chose (checked with a raw Fetch), so the compressed path really ran.
/// </summary>
public class CompressionCodecTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private const int Messages = 1000, Partitions = 2;

    public static TheoryData<Confluent.Kafka.CompressionType> Codecs =>
    [
        Confluent.Kafka.CompressionType.None, Confluent.Kafka.CompressionType.Gzip, Confluent.Kafka.CompressionType.Snappy,
        Confluent.Kafka.CompressionType.Lz4, Confluent.Kafka.CompressionType.Zstd,
    ];

    /// <summary>Message <paramref name="i"/>: some keys and values null, compressible values (librdkafka sends a batch
    /// uncompressed when compressing does not make it smaller), one to three headers, one with a null value.</summary>
    internal static Message<byte[]?, byte[]?> MessageNumber(int i)
    {
        var headers = new Headers { { "n", Encoding.UTF8.GetBytes(i.ToString()) } };
        if (i % 3 == 0)
        {
            headers.Add("null-valued", null);
            headers.Add("n", Encoding.UTF8.GetBytes("again")); // a repeated key keeps both, in order
        }
        return new Message<byte[]?, byte[]?>
        {
            Key = i % 5 == 0 ? null : Encoding.UTF8.GetBytes($"key-{i % 17}"),
            Value = i % 7 == 0 ? null : Encoding.UTF8.GetBytes($"value-{i}-" + new string((char)('a' + i % 26), 20 + i % 200)),
            Headers = headers,
        };
    }

    internal static void AssertSameMessage(Message<byte[]?, byte[]?> expected, Message<byte[]?, byte[]?> actual)
    {
        Assert.Equal(expected.Key, actual.Key);
        Assert.Equal(expected.Value, actual.Value);
        Assert.Equal(expected.Headers.Select(h => (h.Key, h.GetValueBytes())), actual.Headers.Select(h => (h.Key, h.GetValueBytes())));
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task EveryCodecRoundTripsKeysValuesHeadersAndNulls(Confluent.Kafka.CompressionType codec)
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        string topic = $"codec-{codec.ToString().ToLowerInvariant()}";
        using (var admin = ConfluentClientTests.Admin(node.Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
        }

        var sent = new Dictionary<(int Partition, long Offset), int>();
        var errors = new List<string>();
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = node.Bootstrap, CompressionType = codec, Acks = Acks.All, LingerMs = 20, BatchNumMessages = 100,
            MessageTimeoutMs = 30000,
        }).Build())
        {
            for (int i = 0; i < Messages; i++)
            {
                int n = i;
                producer.Produce(new TopicPartition(topic, i % Partitions), MessageNumber(i), report =>
                {
                    lock (sent)
                    {
                        if (report.Error.IsError)
                        {
                            errors.Add($"{n}: {report.Error}");
                        }
                        else
                        {
                            sent.Add((report.Partition.Value, report.Offset.Value), n);
                        }
                    }
                });
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }
        Assert.Empty(errors);
        Assert.Equal(Messages, sent.Count);

        var received = TopicReader.ReadAll(node.Bootstrap, topic, Partitions);
        Assert.Equal(Messages, received.Count);
        foreach (var r in received)
        {
            AssertSameMessage(MessageNumber(sent[(r.Partition.Value, r.Offset.Value)]), r.Message);
        }
        // Within a partition the messages are in the order produced.
        foreach (var partition in received.GroupBy(r => r.Partition.Value))
        {
            var numbers = partition.OrderBy(r => r.Offset.Value).Select(r => sent[(partition.Key, r.Offset.Value)]).ToList();
            Assert.Equal(numbers.Order(), numbers);
        }

        // What the broker stores: batches of several records, each with the client's codec.
        var expected = (Records.CompressionType)(int)codec;
        for (int p = 0; p < Partitions; p++)
        {
            var batches = await RawBatches.FetchAsync(node.Server.Port, topic, p);
            Assert.Equal(Messages / Partitions, batches.Sum(b => b.RecordCount));
            // librdkafka sends a batch uncompressed when compressing does not make it smaller (a lone small record):
            // every batch of several records carries the codec, and there are such batches.
            Assert.Contains(batches, b => b.RecordCount > 1);
            Assert.All(batches.Where(b => b.RecordCount > 1), b => Assert.Equal(expected, b.Compression));
            Assert.All(batches, b => Assert.True(b.Compression == expected || b.Compression == Records.CompressionType.None));
        }
    }
}
