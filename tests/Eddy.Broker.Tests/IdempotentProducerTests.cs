using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Broker.Tests;

/// <summary>
/// Confluent's idempotent producer (enable.idempotence, acks=all, up to 5 requests in flight per connection): every
/// message is stored exactly once and each partition holds its messages in the order sent; also when the node is
/// SIGKILLed in the middle of the stream and started again, so that the client resends the batches it had in
/// flight and the broker must recognise those it had already written (from the producer state it rebuilds from
/// the log at start) instead of appending them twice.
/// </summary>
public sealed class IdempotentProducerTests(ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 6;
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-idempotent-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private static ProducerConfig Config(string bootstrap) => new()
    {
        BootstrapServers = bootstrap, EnableIdempotence = true, Acks = Acks.All, MaxInFlight = 5, LingerMs = 2, BatchNumMessages = 50,
        // Long enough to outlast a node restart: a message that times out in flight would be reported as failed.
        MessageTimeoutMs = 120_000, ReconnectBackoffMs = 100, ReconnectBackoffMaxMs = 1000,
    };

    private static async Task CreateTopicAsync(string bootstrap, string topic)
    {
        using var admin = ConfluentClientTests.Admin(bootstrap);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
    }

    /// <summary>Message i goes to partition i % 6 with the value "i".</summary>
    private static void Send(IProducer<Null, string> producer, string topic, int i, ConcurrentQueue<DeliveryReport<Null, string>> reports) =>
        producer.Produce(new TopicPartition(topic, i % Partitions), new Message<Null, string> { Value = i.ToString() }, reports.Enqueue);

    /// <summary>Every report succeeded; the topic holds each value once, each at its reported offset, and each
    /// partition holds its values in the order sent, at offsets 0, 1, 2, ...</summary>
    private static void AssertExactlyOnceInOrder(string bootstrap, string topic, int sent, IEnumerable<DeliveryReport<Null, string>> reports)
    {
        var delivered = reports.ToList();
        Assert.Equal(sent, delivered.Count);
        Assert.All(delivered, r => Assert.False(r.Error.IsError, r.Error.ToString()));
        var stored = TopicReader.ReadAll(bootstrap, topic, Partitions);
        Assert.Equal(sent, stored.Count);
        for (int p = 0; p < Partitions; p++)
        {
            var values = stored.Where(r => r.Partition.Value == p).OrderBy(r => r.Offset.Value)
                .Select(r => (r.Offset.Value, int.Parse(System.Text.Encoding.UTF8.GetString(r.Message.Value!)))).ToList();
            var expected = Enumerable.Range(0, sent).Where(i => i % Partitions == p).Select((value, offset) => ((long)offset, value));
            Assert.Equal(expected, values);
        }
        Assert.All(delivered, r => Assert.Equal(int.Parse(r.Message.Value) / Partitions, r.Offset.Value));
    }

    [Fact]
    public async Task ThousandsOfMessagesArriveExactlyOnceAndInOrder()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "idempotent-stream";
        const int count = 12_000;
        await using var node = await InProcessNode.StartAsync(_data);
        await CreateTopicAsync(node.Bootstrap, topic);
        var reports = new ConcurrentQueue<DeliveryReport<Null, string>>();
        using (var producer = new ProducerBuilder<Null, string>(Config(node.Bootstrap)).Build())
        {
            for (int i = 0; i < count; i++)
            {
                Send(producer, topic, i, reports);
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(120)));
        }
        AssertExactlyOnceInOrder(node.Bootstrap, topic, count, reports);
    }

    [Fact]
    public async Task BatchesResentAfterASigkillAreNotStoredTwice()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string topic = "idempotent-across-kill";
        var eddy = await EddyProcess.StartAsync("--smp", "2", "--kafka-addr", "127.0.0.1:0", "--data-dir", _data);
        var sender = Task.CompletedTask;
        using var stopSending = new CancellationTokenSource();
        try
        {
            int port = eddy.Port;
            await CreateTopicAsync(eddy.Bootstrap, topic);
            var reports = new ConcurrentQueue<DeliveryReport<Null, string>>();
            using var producer = new ProducerBuilder<Null, string>(Config(eddy.Bootstrap)).Build();
            int sent = 0;
            // A steady stream with several batches in flight at any time.
            sender = Task.Run(async () =>
            {
                while (!stopSending.IsCancellationRequested)
                {
                    for (int k = 0; k < 50; k++)
                    {
                        Send(producer, topic, sent++, reports);
                    }
                    await Task.Delay(2);
                }
            });

            // Kill the node in the middle of the stream until a kill leaves batches that were written but not
            // acknowledged: the client resends those, and only the broker's producer state keeps them from being
            // stored twice. (Usually the first kill does; a kill that lands between requests proves nothing.)
            int resentWritten = 0;
            for (int kill = 1; kill <= 3 && resentWritten == 0; kill++)
            {
                // 3000 more deliveries since the last restart: the stream is flowing again, not still catching up.
                int since = reports.Count;
                await UntilAsync(() => reports.Count >= since + 3000, "deliveries before the kill");
                eddy.Signal(9);
                await eddy.WaitForExitAsync();
                eddy.Dispose();
                await Task.Delay(500); // reports for responses that arrived before the kill reach the queue
                var acknowledged = reports.Where(r => !r.Error.IsError).GroupBy(r => r.Partition.Value).ToDictionary(g => g.Key, g => (long)g.Count());
                eddy = await EddyProcess.StartAsync("--smp", "2", "--kafka-addr", $"127.0.0.1:{port}", "--data-dir", _data);
                var recovered = RecoveredLogEnds(eddy.Output, topic);
                output.WriteLine($"kill {kill}: {acknowledged.Values.Sum()} acknowledged, {recovered.Values.Sum()} in the recovered logs");
                for (int p = 0; p < Partitions; p++)
                {
                    long extra = recovered.GetValueOrDefault(p) - acknowledged.GetValueOrDefault(p);
                    Assert.True(extra >= 0, $"partition {p}: {acknowledged.GetValueOrDefault(p)} acknowledged, {recovered.GetValueOrDefault(p)} recovered");
                    resentWritten += (int)extra;
                }
            }
            Assert.True(resentWritten > 0, "no kill left written but unacknowledged batches behind");
            int afterRestart = reports.Count;
            await UntilAsync(() => reports.Count >= afterRestart + 3000, "deliveries after the restart");
            await stopSending.CancelAsync();
            await sender;
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(120)));
            AssertExactlyOnceInOrder(eddy.Bootstrap, topic, sent, reports);
            await eddy.StopAsync();
        }
        finally
        {
            await stopSending.CancelAsync();
            await sender;
            eddy.Dispose();
        }
    }

    /// <summary>Each partition's log end after recovery, from the node's start-up log ("... batches replayed to N"), which
    /// it writes before it listens; a partition without that line had nothing to replay and no snapshot, so it is empty.</summary>
    private static Dictionary<int, long> RecoveredLogEnds(string nodeOutput, string topic) =>
        Regex.Matches(nodeOutput, $@"/kafka/{Regex.Escape(topic)}/(\d+)_\d+: .* replayed to (\d+),")
            .GroupBy(m => int.Parse(m.Groups[1].Value))
            .ToDictionary(g => g.Key, g => long.Parse(g.Last().Groups[2].Value));

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for {what}");
            await Task.Delay(10);
        }
    }
}
