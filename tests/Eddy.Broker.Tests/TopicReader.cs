using Confluent.Kafka;

namespace Eddy.Broker.Tests;

/// <summary>Reads a topic back with a Confluent consumer assigned to every partition from offset 0 (no group
/// membership, nothing committed): what tests compare with what they produced.</summary>
internal static class TopicReader
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Every message of the topic with key, value and headers, in arrival order. The high watermarks say how
    /// many there are; the test fails if that many do not arrive within <see cref="Timeout"/>. With
    /// <paramref name="awaitTotal"/>, first waits (up to the same timeout) for the high watermarks to add up to it:
    /// for messages that were sent without an acknowledgement (acks=0), which the broker may still be appending.</summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string bootstrap, string topic, int partitions, long? awaitTotal = null)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "topic-reader", EnableAutoCommit = false, SocketTimeoutMs = 10000,
        }).Build();
        long total = HighWatermarks(consumer, topic, partitions).Sum();
        var waitUntil = DateTime.UtcNow + Timeout;
        while (awaitTotal is { } expected && total < expected && DateTime.UtcNow < waitUntil)
        {
            Thread.Sleep(100);
            total = HighWatermarks(consumer, topic, partitions).Sum();
        }
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, 0)));
        var received = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow + Timeout;
        while (received.Count < total && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { IsPartitionEOF: false } result)
            {
                received.Add(result);
            }
        }
        Assert.True(received.Count == total, $"{topic}: {received.Count} of {total} messages came back");
        return received;
    }

    public static long[] HighWatermarks(IConsumer<byte[]?, byte[]?> consumer, string topic, int partitions) =>
        Enumerable.Range(0, partitions).Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(15)).High.Value).ToArray();

    public static long[] HighWatermarks(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "topic-reader" }).Build();
        return HighWatermarks(consumer, topic, partitions);
    }
}
