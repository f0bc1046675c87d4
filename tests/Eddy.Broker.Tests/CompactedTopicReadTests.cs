using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>
/// Clients read a compacted topic from its start to its end: each key's newest record at its offset, across the gaps
/// where compaction removed whole batches and past the empty batch it keeps as an idempotent producer's last (the same
/// kind of batch a replicated partition's leader sends its followers in place of gaps). Confluent.Kafka (librdkafka),
/// kcat (Debian's librdkafka) and kafka-python (its own protocol code) each read it.
/// </summary>
public sealed class CompactedTopicReadTests : IAsyncLifetime
{
    private const string Topic = "compacted-read";
    private const int Keys = 5;
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"eddy-compacted-{Guid.NewGuid():N}");
    private InProcessNode _node = null!;
    private readonly Dictionary<string, (long Offset, string Value)> _newest = new();

    public async Task InitializeAsync()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        _node = await InProcessNode.StartAsync(_dataDirectory, housekeepingInterval: TimeSpan.FromMilliseconds(200));
        using var admin = ConfluentClientTests.Admin(_node.Bootstrap);
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = Topic, NumPartitions = 1, ReplicationFactor = 1,
            Configs = new() { ["cleanup.policy"] = "compact", ["segment.bytes"] = "65536" },
        }]);
        // An idempotent producer writes every key once; a plain one then writes each again, enough to fill a few
        // segments, so compaction empties all of the idempotent producer's batches (keeping its last) and removes most
        // of the plain ones whole.
        using (var idempotent = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _node.Bootstrap, EnableIdempotence = true, LingerMs = 0 }).Build())
        {
            for (int k = 0; k < Keys; k++) Record(await idempotent.ProduceAsync(Topic, new Message<string, string> { Key = $"k{k}", Value = $"idempotent-{k}" }));
        }
        using var plain = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _node.Bootstrap, Acks = Acks.All, LingerMs = 0 }).Build();
        for (int i = 0; i < 60; i++) Record(await plain.ProduceAsync(Topic, new Message<string, string> { Key = $"k{i % Keys}", Value = $"plain-{i}-{new string('x', 4000)}" }));
        await WaitForCompactionAsync();
    }

    private void Record(DeliveryResult<string, string> sent) => _newest[sent.Message.Key] = (sent.Offset.Value, sent.Message.Value);

    /// <summary>Until a read from the start no longer finds the idempotent producer's first record.</summary>
    private async Task WaitForCompactionAsync()
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = _node.Bootstrap, GroupId = "unused", EnableAutoCommit = false }).Build();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            consumer.Assign(new TopicPartitionOffset(Topic, 0, Offset.Beginning));
            if (consumer.Consume(TimeSpan.FromSeconds(5)) is { } first && first.Offset.Value > 0)
            {
                return;
            }
            await Task.Delay(200);
        }
        Assert.Fail("the topic was not compacted within 30 s");
    }

    private long End => _newest.Values.Max(n => n.Offset) + 1;

    private List<(long Offset, string Key, string Value)> Expected
        => [.. _newest.Select(n => (n.Value.Offset, n.Key, n.Value.Value)).OrderBy(n => n.Offset)];

    private static List<(long Offset, string Key, string Value)> NewestOfEachKey(IEnumerable<(long Offset, string Key, string Value)> read)
        => [.. read.GroupBy(r => r.Key).Select(g => g.MaxBy(r => r.Offset)).OrderBy(r => r.Offset)];

    [Fact]
    public void ConfluentKafkaReadsEachKeysNewestRecordToTheEnd()
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = _node.Bootstrap, GroupId = "unused", EnableAutoCommit = false, EnablePartitionEof = true,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(Topic, 0, Offset.Beginning));
        var read = new List<(long, string, string)>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && consumer.Consume(TimeSpan.FromSeconds(1)) is var result && result?.IsPartitionEOF != true)
        {
            if (result is not null) read.Add((result.Offset.Value, result.Message.Key, result.Message.Value));
        }
        Assert.Equal(End, consumer.Position(new TopicPartition(Topic, 0)).Value);
        Assert.True(read.Count < 60, $"{read.Count} records read: nothing was compacted");
        Assert.Equal(Expected, NewestOfEachKey(read));
    }

    [Fact]
    public async Task KcatReadsEachKeysNewestRecordToTheEnd()
    {
        var (code, output) = await DebianClientTests.RunAsync("kcat", null, "-b", _node.Bootstrap, "-C", "-t", Topic, "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%o %k %s\n");
        Assert.True(code == 0, output);
        Assert.Equal(Expected, NewestOfEachKey(Lines(output)));
    }

    [Fact]
    public async Task KafkaPythonReadsEachKeysNewestRecordToTheEnd()
    {
        var (code, output) = await DebianClientTests.RunAsync("/usr/bin/python3", null, Path.Combine(AppContext.BaseDirectory, "clients", "kafka_python_read.py"), _node.Bootstrap, Topic);
        Assert.True(code == 0, output);
        Assert.Contains($"end {End}", output);
        Assert.Equal(Expected, NewestOfEachKey(Lines(output).Where(l => l.Key != "")));
    }

    private static List<(long Offset, string Key, string Value)> Lines(string output)
        => [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).Where(p => p.Length == 3 && p[0] != "end")
            .Select(p => (long.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), p[1], p[2]))];

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }
}
