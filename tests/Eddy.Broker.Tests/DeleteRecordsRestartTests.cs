using Confluent.Kafka;

namespace Eddy.Broker.Tests;

/// <summary>A log start offset moved by DeleteRecords holds across a restart of the node on the same data directory.</summary>
public sealed class DeleteRecordsRestartTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"eddy-restart-{Guid.NewGuid():N}");

    [Fact]
    public async Task TheStartOffsetSurvivesARestart()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "restart-delete-records";
        await using (var first = await InProcessNode.StartAsync(_dataDirectory))
        {
            using var admin = ConfluentClientTests.Admin(first.Bootstrap);
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
            await AdminTests.ProduceAsync(first.Bootstrap, topic, 12);
            Assert.Equal(7, Assert.Single(await admin.DeleteRecordsAsync([new TopicPartitionOffset(topic, 0, 7)])).Offset.Value);
        }
        await using var second = await InProcessNode.StartAsync(_dataDirectory);
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = second.Bootstrap, GroupId = "unused" }).Build();
        var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(15));
        Assert.Equal((7L, 12L), (watermarks.Low.Value, watermarks.High.Value));
        Assert.Equal([7L, 8, 9, 10, 11], AdminTests.ConsumeFromBeginning(second.Bootstrap, topic, 5));
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
