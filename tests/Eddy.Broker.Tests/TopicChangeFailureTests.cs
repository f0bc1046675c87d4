using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>A CreateTopics or CreatePartitions whose partitions cannot be opened changes nothing: the client gets
/// KAFKA_STORAGE_ERROR, and neither the node nor a restart of it shows half a change.</summary>
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
    public async Task ACreatePartitionsThatCannotOpenANewPartitionKeepsTheOldCountAndNoNewDirectory()
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
            Assert.Equal(ErrorCode.KafkaStorageError, Assert.Single(error.Results).Error.Code);
            Assert.Equal(1, PartitionsOf(admin, "grow"));
            Assert.Equal([$"0_{revision}"], Directory.GetDirectories(topicDirectory).Select(Path.GetFileName));
            File.Delete(Path.Combine(topicDirectory, $"2_{revision}"));
        }
        await RestartAsync();
        using (var admin = ConfluentClientTests.Admin(_node.Bootstrap))
        {
            Assert.Equal(1, PartitionsOf(admin, "grow"));
            await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "grow", IncreaseTo = 3 }]);
            Assert.Equal(3, PartitionsOf(admin, "grow"));
        }
    }
}
