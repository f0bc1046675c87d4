using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Eddy.Embedded;

namespace Eddy.Embedded.Tests;

/// <summary>
/// <see cref="EddyNode"/> as the README shows it: a real node in the test's own process, reached by Confluent.Kafka
/// on its bootstrap address, its temporary data gone after dispose, a given directory kept for the next start.
/// </summary>
public sealed class EddyNodeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ConfluentKafkaProducesAndConsumesThroughAnEmbeddedNode()
    {
        await using var node = await EddyNode.StartAsync();

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = node.BootstrapServers }).Build())
        {
            for (int i = 0; i < 10; i++)
            {
                var delivered = await producer.ProduceAsync("orders", new Message<string, string> { Key = $"k{i}", Value = $"order {i}" });
                Assert.Equal(i, delivered.Offset.Value);
            }
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = node.BootstrapServers, GroupId = "readers", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe("orders");
        var read = new List<string>();
        var deadline = DateTime.UtcNow + Wait;
        while (read.Count < 10 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { } result)
            {
                read.Add(result.Message.Value);
            }
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"order {i}"), read);
        consumer.Commit();
        consumer.Close();
    }

    [Fact]
    public async Task ATemporaryDirectoryIsRemovedAndAGivenOneKeptForTheNextStart()
    {
        string temporary;
        await using (var node = await EddyNode.StartAsync())
        {
            temporary = node.DataDirectory;
            Assert.True(Directory.Exists(temporary));
        }
        Assert.False(Directory.Exists(temporary), $"{temporary} was left behind");

        string kept = Path.Combine(Path.GetTempPath(), $"eddy-embedded-kept-{Guid.NewGuid():N}");
        try
        {
            await using (var node = await EddyNode.StartAsync(new EddyNodeOptions { DataDirectory = kept }))
            {
                using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = node.BootstrapServers }).Build();
                await admin.CreateTopicsAsync([new TopicSpecification { Name = "kept", NumPartitions = 2, ReplicationFactor = 1 }]);
                using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = node.BootstrapServers }).Build();
                await producer.ProduceAsync(new TopicPartition("kept", 1), new Message<Null, string> { Value = "still here" });
            }
            Assert.True(Directory.Exists(kept));
            await using (var node = await EddyNode.StartAsync(new EddyNodeOptions { DataDirectory = kept }))
            {
                using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = node.BootstrapServers, GroupId = "after" }).Build();
                consumer.Assign(new TopicPartitionOffset("kept", 1, 0));
                var record = consumer.Consume(Wait);
                Assert.Equal("still here", record?.Message.Value);
            }
        }
        finally
        {
            Directory.Delete(kept, recursive: true);
        }
    }

    [Fact]
    public async Task TwoNodesInOneProcessKeepTheirOwnTopics()
    {
        await using var first = await EddyNode.StartAsync();
        await using var second = await EddyNode.StartAsync(new EddyNodeOptions { Shards = 2, AutoCreateTopics = false });
        Assert.NotEqual(first.Port, second.Port);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = first.BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "only-on-first", NumPartitions = 1, ReplicationFactor = 1 }]);
        using var secondAdmin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = second.BootstrapServers }).Build();
        var topics = secondAdmin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic);
        Assert.DoesNotContain("only-on-first", topics);
        Assert.Contains("only-on-first", admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic));
    }
}
