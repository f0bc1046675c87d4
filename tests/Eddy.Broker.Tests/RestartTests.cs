using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>
/// What survives a restart of `eddy start`: after SIGINT, the cluster id, every topic and message; after SIGKILL in the middle of
/// an acks=all produce, every acknowledged message, at the offset it was acknowledged with, once.
/// </summary>
public sealed class RestartTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-restart-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private Task<EddyProcess> StartAsync() => EddyProcess.StartAsync("--smp", "2", "--kafka-addr", "127.0.0.1:0", "--data-dir", _data);

    [Fact]
    public async Task CleanRestartKeepsTopicsConfigsAndMessages()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        var sent = new List<(int Partition, long Offset, string Value)>();
        string topicId, clusterId;
        using (var eddy = await StartAsync())
        {
            using (var admin = ConfluentClientTests.Admin(eddy.Bootstrap))
            {
                // The cluster id is made at the first start: a UUID, not a fixed development string.
                clusterId = (await admin.DescribeClusterAsync()).ClusterId;
                Assert.True(Guid.TryParse(clusterId, out _), $"cluster id '{clusterId}' is not a UUID");
                await admin.CreateTopicsAsync([new TopicSpecification
                {
                    Name = "kept", NumPartitions = 4, ReplicationFactor = 1,
                    Configs = new Dictionary<string, string> { ["retention.ms"] = "123456789" },
                }]);
                topicId = TopicId(admin, "kept");
            }
            using var producer = Producer(eddy.Bootstrap);
            for (int i = 0; i < 400; i++)
            {
                var result = await producer.ProduceAsync(new TopicPartition("kept", i % 4), new Message<Null, string> { Value = $"m{i}" });
                sent.Add((result.Partition.Value, result.Offset.Value, $"m{i}"));
            }
            await eddy.StopAsync();
        }
        using (var eddy = await StartAsync())
        {
            using var admin = ConfluentClientTests.Admin(eddy.Bootstrap);
            Assert.Equal(clusterId, (await admin.DescribeClusterAsync()).ClusterId);
            Assert.Equal(topicId, TopicId(admin, "kept"));
            var configs = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "kept" }]);
            Assert.Equal("123456789", configs[0].Entries["retention.ms"].Value);
            var received = ConsumeAll(eddy.Bootstrap, "kept", 4, sent.Count);
            Assert.Equal(sent.OrderBy(m => m.Partition).ThenBy(m => m.Offset), received.OrderBy(m => m.Partition).ThenBy(m => m.Offset));
            // New messages continue after the old ones.
            using var producer = Producer(eddy.Bootstrap);
            var next = await producer.ProduceAsync(new TopicPartition("kept", 0), new Message<Null, string> { Value = "after" });
            Assert.Equal(100, next.Offset.Value);
            await eddy.StopAsync();
        }
    }

    [Fact]
    public async Task SigkillDuringAcksAllProduceLosesNothingAcknowledged()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        var acknowledged = new ConcurrentBag<(int Partition, long Offset, string Value)>();
        using (var eddy = await StartAsync())
        {
            using (var admin = ConfluentClientTests.Admin(eddy.Bootstrap))
            {
                await admin.CreateTopicsAsync([new TopicSpecification { Name = "durable", NumPartitions = 3, ReplicationFactor = 1 }]);
            }
            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
            {
                BootstrapServers = eddy.Bootstrap, Acks = Acks.All, LingerMs = 2, MessageTimeoutMs = 5000, SocketTimeoutMs = 5000,
                ReconnectBackoffMaxMs = 500,
            }).Build();
            int i = 0;
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(1.5);
            while (DateTime.UtcNow < until)
            {
                string value = $"v{i++}";
                producer.Produce("durable", new Message<Null, string> { Value = value }, report =>
                {
                    if (report.Error.Code == ErrorCode.NoError)
                    {
                        acknowledged.Add((report.Partition.Value, report.Offset.Value, value));
                    }
                });
                if (i % 200 == 0)
                {
                    await Task.Delay(1);
                }
            }
            eddy.Signal(9);
            await eddy.WaitForExitAsync();
            producer.Flush(TimeSpan.FromSeconds(6)); // the rest fail: the node is gone
        }
        Assert.NotEmpty(acknowledged);
        using (var eddy = await StartAsync())
        {
            var received = ConsumeAll(eddy.Bootstrap, "durable", 3, acknowledged.Count);
            var byPosition = received.GroupBy(m => (m.Partition, m.Offset)).ToDictionary(g => g.Key, g => g.Single().Value);
            foreach (var ack in acknowledged)
            {
                Assert.True(byPosition.TryGetValue((ack.Partition, ack.Offset), out var value), $"acknowledged {ack} is missing");
                Assert.Equal(ack.Value, value);
            }
            // Each acknowledged value appears once.
            var counts = received.GroupBy(m => m.Value).ToDictionary(g => g.Key, g => g.Count());
            Assert.All(acknowledged, ack => Assert.Equal(1, counts[ack.Value]));
            await eddy.StopAsync();
        }
    }

    private static IProducer<Null, string> Producer(string bootstrap) => new ProducerBuilder<Null, string>(new ProducerConfig
    {
        BootstrapServers = bootstrap, Acks = Acks.All, LingerMs = 1, MessageTimeoutMs = 15000,
    }).Build();

    private static string TopicId(IAdminClient admin, string topic)
    {
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        Assert.Equal(ErrorCode.NoError, metadata.Topics[0].Error.Code);
        // librdkafka does not expose the id through GetMetadata; DescribeTopics does.
        var described = admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([topic])).GetAwaiter().GetResult();
        string id = described.TopicDescriptions[0].TopicId.ToString()!;
        Assert.NotEqual(new Uuid(0, 0).ToString(), id);
        return id;
    }

    /// <summary>Reads every partition from offset 0 to its high watermark.</summary>
    internal static List<(int Partition, long Offset, string Value)> ConsumeAll(string bootstrap, string topic, int partitions, int atLeast)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "restart-check", EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        var ends = Enumerable.Range(0, partitions)
            .Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value).ToArray();
        Assert.True(ends.Sum() >= atLeast, $"the log holds {ends.Sum()} messages, fewer than {atLeast}");
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, 0)));
        var received = new List<(int, long, string)>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (received.Count < ends.Sum() && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(1));
            if (result is not null && !result.IsPartitionEOF)
            {
                received.Add((result.Partition.Value, result.Offset.Value, result.Message.Value));
            }
        }
        Assert.Equal(ends.Sum(), received.Count);
        return received;
    }
}
