using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Broker.Tests;

/// <summary>
/// SIGKILL during an acks=all produce, checked by the binary's own load generator: `eddy bench produce` writes down
/// every message whose delivery was acknowledged; the real `eddy start` is killed while the producer is mid-stream;
/// after a restart on the same data directory, `eddy bench consume --check` reads the topic and demands every
/// acknowledged message exactly once and intact. (RestartTests checks the same with Confluent.Kafka, offsets
/// included; this one adds a second client and many more messages.)
/// </summary>
public sealed class BenchDurabilityTests(ITestOutputHelper log) : IDisposable
{
    private const int Partitions = 3;
    private const int Count = 300_000;
    private const int MessageBytes = 512;
    /// <summary>Messages in the log before the kill: proof that the producer is well under way, not starting.</summary>
    private const long KillAfter = 20_000;
    /// <summary>The producer's pace: the whole run takes 6 s, so the kill lands mid-stream however fast the node is (unpaced,
    /// a quiet machine delivered all 300,000 in 0.4 s, before the watcher had seen the first 20,000).</summary>
    private const int MessagesPerSecond = 50_000;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"eddy-bench-durability-{Guid.NewGuid():N}");
    private string Data => Path.Combine(_dir, "data");
    private string Acked => Path.Combine(_dir, "acked.bin");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private Task<EddyProcess> StartAsync()
    {
        Directory.CreateDirectory(_dir);
        return EddyProcess.StartAsync("--smp", "2", "--kafka-addr", "127.0.0.1:0", "--data-dir", Data);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SigkillMidProduceKeepsEveryAcknowledgedMessageOnce(bool idempotent)
    {
        const string topic = "bench-durable";
        EddyCli produced;
        using (var eddy = await StartAsync())
        {
            using (var admin = ConfluentClientTests.Admin(eddy.Bootstrap))
            {
                await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
            }
            var args = new List<string>
            {
                "bench", "produce", topic, "-b", eddy.Bootstrap, "-n", $"{Count}", "-s", $"{MessageBytes}", "-a", "all", "-l", "5",
                "-r", $"{MessagesPerSecond}", "-o", Acked,
                // Once the node is gone, undelivered messages fail within seconds instead of the default 2 minutes.
                "-T", "5",
            };
            if (!idempotent)
            {
                args.Add("--no-idempotence");
            }
            var producing = EddyCli.RunAsync([.. args]);
            await WaitForLogAsync(eddy.Bootstrap, topic, producing);
            eddy.Signal(9);
            await eddy.WaitForExitAsync();
            produced = await producing;
        }
        log.WriteLine(produced.ToString());
        // Mid-stream: some deliveries were acknowledged and some failed because the node was killed.
        Assert.True(produced.ExitCode == 1, $"bench produce: {produced}");
        Assert.True(produced["idempotent"] == (idempotent ? 1 : 0), $"bench produce ran with the wrong idempotence: {produced}");
        Assert.True(produced["delivered"] >= KillAfter / 2 && produced["failed"] > 0, $"not killed mid-stream: {produced}");
        Assert.Equal(Count, produced["delivered"] + produced["failed"]);
        Assert.Equal(produced["delivered"] * 8, new FileInfo(Acked).Length);

        using (var eddy = await StartAsync())
        {
            var consumed = await EddyCli.RunAsync("bench", "consume", topic, "-b", eddy.Bootstrap, "-n", $"{Count}", "-k", Acked, "-T", "90");
            log.WriteLine(consumed.ToString());
            Assert.True(consumed.ExitCode == 0, $"bench consume: {consumed}");
            Assert.Equal(produced["delivered"], consumed["expected"]);
            foreach (var key in new[] { "missing", "duplicates", "corrupt", "unexpected", "offsets_backwards" })
            {
                Assert.True(consumed[key] == 0, $"{key}={consumed[key]}: {consumed}");
            }
            // Everything read is an acknowledged message or one whose acknowledgement the kill cut off, each once.
            Assert.Equal(consumed["expected"] + consumed["unacked_present"], consumed["read"]);
            await eddy.StopAsync();
        }
    }

    /// <summary>Waits until the topic holds <see cref="KillAfter"/> messages, failing if the producer ends first.</summary>
    private static async Task WaitForLogAsync(string bootstrap, string topic, Task<EddyCli> producing)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-watch" }).Build();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        long inLog = 0;
        while (inLog < KillAfter)
        {
            Assert.False(producing.IsCompleted, $"the producer ended before the kill: {(producing.IsCompleted ? producing.Result : "")}");
            Assert.True(DateTime.UtcNow < deadline, $"after 60 s the log holds {inLog} messages");
            await Task.Delay(50);
            inLog = Enumerable.Range(0, Partitions)
                .Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
        }
    }
}
