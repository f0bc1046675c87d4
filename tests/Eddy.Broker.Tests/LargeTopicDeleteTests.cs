using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Broker.Tests;

/// <summary>Deleting a topic with thousands of files leaves the shard free: a partition on the same shard keeps
/// acknowledging produces while the files go (the shard hands the unlinks to its file thread).</summary>
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
        while (Count(acks) < 20)
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
        int before = Count(acks);
        while (Count(acks) < before + 20)
        {
            await Task.Delay(10);
        }
        await stop.CancelAsync();
        await producing;

        Assert.False(Directory.Exists(partitionDirectory));
        TimeSpan delete = deleteEnded - deleteStarted;
        // From the last acknowledgement before the delete to the first after it, the longest wait for one.
        var around = acks.Where(t => t < deleteStarted).TakeLast(1)
            .Concat(acks.Where(t => t >= deleteStarted && t <= deleteEnded))
            .Concat(acks.Where(t => t > deleteEnded).Take(1)).ToList();
        TimeSpan longestGap = around.Zip(around.Skip(1), (a, b) => b - a).Max();
        int during = acks.Count(t => t >= deleteStarted && t <= deleteEnded);
        output.WriteLine($"deleting {Files} files took {delete.TotalMilliseconds:F0} ms; meanwhile {during} produces were acknowledged on the same shard, "
            + $"the longest wait between two {longestGap.TotalMilliseconds:F0} ms");
        Assert.True(during >= 5, $"only {during} produces acknowledged during a {delete.TotalMilliseconds:F0} ms delete");
        Assert.True(longestGap * 3 < delete, $"the partition stalled {longestGap.TotalMilliseconds:F0} ms of a {delete.TotalMilliseconds:F0} ms delete");
    }

    private static int Count(List<TimeSpan> acks)
    {
        lock (acks)
        {
            return acks.Count;
        }
    }
}
