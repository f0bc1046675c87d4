using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>A CreateTopics whose partitions cannot be opened changes nothing: the client gets KAFKA_STORAGE_ERROR, and
/// neither the node nor a restart of it shows half a topic. A CreatePartitions whose new partitions cannot be opened is
/// reported the same way; the count stays grown, as the controller recorded it, and a restart opens them.</summary>
public sealed class TopicChangeFailureTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-topic-failure-{Guid.NewGuid():N}");
    private InProcessNode _node = null!;

    public async Task InitializeAsync() => _node = await InProcessNode.StartAsync(_data);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private async Task RestartAsync()
    {
        await _node.DisposeAsync();
        _node = await InProcessNode.StartAsync(_data);
    }

    private int PartitionsOf(IAdminClient admin, string topic)
        => admin.GetMetadata(Timeout).Topics.SingleOrDefault(t => t.Topic == topic)?.Partitions.Count ?? 0;

    [Fact]
    public async Task ACreateTopicsThatCannotOpenItsPartitionsIsNotRecordedAndNoRestartBringsItBack()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        string inTheWay = Path.Combine(_data, "kafka", "blocked");
        await File.WriteAllTextAsync(inTheWay, "a file where the topic's directory must go");
        using (var admin = ConfluentClientTests.Admin(_node.Bootstrap))
        {
            var error = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
                [new TopicSpecification { Name = "blocked", NumPartitions = 3, ReplicationFactor = 1 }]));
            Assert.Equal(ErrorCode.KafkaStorageError, Assert.Single(error.Results).Error.Code);
            Assert.Equal(0, PartitionsOf(admin, "blocked"));
        }
        File.Delete(inTheWay);
        await RestartAsync();
        using (var admin = ConfluentClientTests.Admin(_node.Bootstrap))
        {
            Assert.Equal(0, PartitionsOf(admin, "blocked")); // the client was told it failed: it stays failed
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "blocked", NumPartitions = 3, ReplicationFactor = 1 }]);
            Assert.Equal(3, PartitionsOf(admin, "blocked"));
        }
    }

    [Fact]
    public async Task ACreatePartitionsThatCannotOpenANewPartitionIsReportedAndTheRestartOpensIt()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        string topicDirectory = Path.Combine(_data, "kafka", "grow");
        using (var admin = ConfluentClientTests.Admin(_node.Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "grow", NumPartitions = 1, ReplicationFactor = 1 }]);
            string revision = Path.GetFileName(Assert.Single(Directory.GetDirectories(topicDirectory))).Split('_')[1];
            // Partition 1 opens; partition 2's directory cannot be made.
            await File.WriteAllTextAsync(Path.Combine(topicDirectory, $"2_{revision}"), "in the way");
            var error = await Assert.ThrowsAsync<CreatePartitionsException>(() => admin.CreatePartitionsAsync(
                [new PartitionsSpecification { Topic = "grow", IncreaseTo = 3 }]));
            // The controller recorded the new count (Kafka never shrinks a topic), so the client is told that the new
            // partitions could not be opened, and none of them is served until they can be: the ones opened meanwhile
            // were closed again and their directories removed.
            Assert.Equal(ErrorCode.KafkaStorageError, Assert.Single(error.Results).Error.Code);
            Assert.Equal(3, PartitionsOf(admin, "grow"));
            Assert.Equal([$"0_{revision}"], Directory.GetDirectories(topicDirectory).Select(Path.GetFileName));
            File.Delete(Path.Combine(topicDirectory, $"2_{revision}"));
        }
        await RestartAsync();
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _node.Bootstrap }).Build())
        {
            for (int p = 0; p < 3; p++)
            {
                var written = await producer.ProduceAsync(new TopicPartition("grow", p), new Message<Null, string> { Value = "after the restart" });
                Assert.Equal(0, written.Offset.Value);
            }
        }
    }
}
