using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Broker.Tests;

/// <summary>Deleting a topic with thousands of files leaves the shard free: a partition on the same shard keeps
/// acknowledging produces and answering ListOffsets while the files go (the shard hands the unlinks to its file
/// thread). The stall is measured on ListOffsets, which the shard answers from memory: an acks=all produce also waits
/// for an fdatasync, which the filesystem's journal may hold up while it records thousands of unlinks, whoever makes
/// them.</summary>
public sealed class LargeTopicDeleteTests(ITestOutputHelper output) : IAsyncLifetime
{
    // Enough files that removing them takes far longer than one acks=all produce, even on a fast disk.
    private const int Files = 5_000;
    private const int FileBytes = 4096;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-large-delete-{Guid.NewGuid():N}");
    private InProcessNode _node = null!;

    public async Task InitializeAsync() => _node = await InProcessNode.StartAsync(_data);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task ProducesToAPartitionOnTheSameShardGoOnWhileALargeTopicIsDeleted()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        const string big = "big";
        int shard = _node.Broker.Router.ShardOf(big, 0);
        string live = Enumerable.Range(0, 100).Select(i => $"live-{i}").First(name => _node.Broker.Router.ShardOf(name, 0) == shard);
        using (var admin = ConfluentClientTests.Admin(_node.Bootstrap))
        {
            await admin.CreateTopicsAsync(
            [
                new TopicSpecification { Name = big, NumPartitions = 1, ReplicationFactor = 1 },
                new TopicSpecification { Name = live, NumPartitions = 1, ReplicationFactor = 1 },
            ]);
        }
        string partitionDirectory = Directory.GetDirectories(Path.Combine(_data, "kafka", big)).Single();
        var block = new byte[FileBytes];
        for (int i = 0; i < Files; i++)
        {
            // Named like segments far past the log's own, which the partition never opens: only the delete meets them.
            File.WriteAllBytes(Path.Combine(partitionDirectory, $"{1_000_000_000L + i}-0.log.aside"), block);
        }

        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = _node.Bootstrap, Acks = Acks.All, LingerMs = 0, MessageTimeoutMs = (int)Timeout.TotalMilliseconds,
        }).Build();
        var clock = Stopwatch.StartNew();
        var acks = new List<TimeSpan>();
        using var stop = new CancellationTokenSource();
        var producing = Task.Run(async () =>
        {
            // One produce at a time: the gap between two acknowledgements is how long the partition could not answer.
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                await producer.ProduceAsync(new TopicPartition(live, 0), new Message<Null, string> { Value = $"m{i}" });
                lock (acks)
                {
                    acks.Add(clock.Elapsed);
                }
            }
        });
        var answers = new List<TimeSpan>();
        var probing = Task.Run(() =>
        {
            // One ListOffsets at a time, answered by the partition's shard: the gap between two answers is how long the
            // shard could not serve it.
            using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = _node.Bootstrap, GroupId = "large-delete-probe" }).Build();
            while (!stop.IsCancellationRequested)
            {
                consumer.QueryWatermarkOffsets(new TopicPartition(live, 0), Timeout);
                lock (answers)
                {
                    answers.Add(clock.Elapsed);
                }
            }
        });
        while (Count(acks) < 20 || Count(answers) < 20)
        {
            await Task.Delay(10);
        }

        TimeSpan deleteStarted = clock.Elapsed;
        // Its own client: the shared one gives up on a request after 10 s, and a stalled shard must fail the assertions below.
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _node.Bootstrap, SocketTimeoutMs = (int)Timeout.TotalMilliseconds }).Build())
        {
            await admin.DeleteTopicsAsync([big], new DeleteTopicsOptions { OperationTimeout = Timeout, RequestTimeout = Timeout });
        }
        TimeSpan deleteEnded = clock.Elapsed;
        int before = Count(acks), answeredBefore = Count(answers);
        while (Count(acks) < before + 20 || Count(answers) < answeredBefore + 20)
        {
            await Task.Delay(10);
        }
        await stop.CancelAsync();
        await producing;
        await probing;

        Assert.False(Directory.Exists(partitionDirectory));
        TimeSpan delete = deleteEnded - deleteStarted;
        int during = acks.Count(t => t >= deleteStarted && t <= deleteEnded);
        TimeSpan longestAck = LongestGap(acks, deleteStarted, deleteEnded), longestAnswer = LongestGap(answers, deleteStarted, deleteEnded);
        output.WriteLine($"deleting {Files} files took {delete.TotalMilliseconds:F0} ms; meanwhile {during} produces were acknowledged on the same shard "
            + $"(longest wait between two {longestAck.TotalMilliseconds:F0} ms) and {answers.Count(t => t >= deleteStarted && t <= deleteEnded)} ListOffsets "
            + $"answered (longest wait {longestAnswer.TotalMilliseconds:F0} ms)");
        Assert.True(during >= 5, $"only {during} produces acknowledged during a {delete.TotalMilliseconds:F0} ms delete");
        // A shard blocked by the delete answers nothing until it ends: the longest wait would be the whole delete.
        Assert.True(longestAnswer * 2 < delete, $"the shard stalled {longestAnswer.TotalMilliseconds:F0} ms of a {delete.TotalMilliseconds:F0} ms delete");
    }

    /// <summary>From the last event before the window to the first after it, the longest wait for the next.</summary>
    private static TimeSpan LongestGap(List<TimeSpan> events, TimeSpan from, TimeSpan to)
    {
        var around = events.Where(t => t < from).TakeLast(1)
            .Concat(events.Where(t => t >= from && t <= to))
            .Concat(events.Where(t => t > to).Take(1)).ToList();
        return around.Zip(around.Skip(1), (a, b) => b - a).Max();
    }

    private static int Count(List<TimeSpan> acks)
    {
        lock (acks)
        {
            return acks.Count;
        }
    }
}
