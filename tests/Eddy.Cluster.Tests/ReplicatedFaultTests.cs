using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// Replicated partitions under faults: three nodes in network namespaces, a topic with three replicas per partition, and
/// an idempotent acks=all producer that keeps sending while a fault drawn from a printed seed hits the leaders: their
/// links cut, their processes stopped (SIGSTOP) or killed in a loop (SIGKILL and restart), or power cuts (SIGKILL of
/// nodes that hold their writes in memory until fdatasync, so that a kill loses every unsynced write): a leader's, then
/// all three nodes' at once. Afterwards every acknowledged
/// record is read back exactly once, each key's records in the order they were acknowledged, and every partition's
/// replicas hold the same bytes. The slow multi-node scenarios of replication live here, one cluster per scenario.
/// </summary>
public sealed class ReplicatedFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = ReplicatedTopic.Settle;
    private const string Topic = "faults";
    private const int Partitions = 3;
    private const int LagMs = 1500;

    [Theory]
    [InlineData("cut-leader")]
    [InlineData("stop-leader")]
    [InlineData("kill-leaders")]
    [InlineData("power-cuts")]
    public async Task AcknowledgedRecordsSurviveAndReplicasConverge(string fault)
    {
        int seed = Random.Shared.Next(1 << 16);
        var draw = new Random(seed);
        // Power cuts: every node holds its writes in memory until fdatasync, so a SIGKILL loses what was not synced.
        string[] args = fault == "power-cuts"
            ? ["--replica-lag-time-max-ms", $"{LagMs}", "--test-lose-unsynced-writes", "true"]
            : ["--replica-lag-time-max-ms", $"{LagMs}"];
        await using var cluster = await EddyCluster.StartInNamespacesAsync(3, args);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "3 nodes agree");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = Partitions, ReplicationFactor = 3 }]);
        }
        await ReplicatedTopic.WaitForLeadersAsync(cluster, Topic, Partitions, cluster.Nodes);

        using var workload = new Workload(cluster.Bootstrap);
        var producing = workload.RunAsync();
        await EddyCluster.WaitUntilAsync(() => Task.FromResult(workload.Acknowledged > 200), Settle, "the producer is under way");
        switch (fault)
        {
            case "cut-leader":
            case "stop-leader":
            {
                int victim = (await cluster.MetadataAsync(1))!.Leaders[Topic][draw.Next(Partitions)];
                var hold = TimeSpan.FromMilliseconds(2000 + draw.Next(3000));
                output.WriteLine($"seed {seed}: {fault} node {victim} for {hold.TotalMilliseconds:0} ms while producing, then heal");
                if (fault == "cut-leader") cluster.Namespaces!.Cut(victim); else cluster[victim].Process!.Signal(19);
                var survivors = cluster.Nodes.Where(n => n.Id != victim).ToList();
                await EddyCluster.WaitUntilAsync(async () => (await cluster.MetadataAsync(survivors[0].Id))?.Leaders[Topic].All(l => l > 0 && l != victim) == true,
                    Settle, $"the partitions node {victim} led elect other leaders");
                int before = workload.Acknowledged;
                await Task.Delay(hold);
                if (fault == "cut-leader") cluster.Namespaces!.Heal(victim); else cluster[victim].Process!.Signal(18);
                output.WriteLine($"{workload.Acknowledged - before} records acknowledged while node {victim} was away");
                break;
            }
            case "kill-leaders":
            {
                var schedule = Enumerable.Range(0, 3).Select(_ => (Partition: draw.Next(Partitions), DownMs: 300 + draw.Next(1500))).ToList();
                output.WriteLine($"seed {seed}: SIGKILL the leader of partitions {string.Join(", ", schedule.Select(s => $"{s.Partition} (down {s.DownMs} ms)"))}, restarting each");
                foreach (var (partition, downMs) in schedule)
                {
                    int victim = (await cluster.MetadataAsync(cluster.Nodes.First(n => n.IsRunning).Id))!.Leaders[Topic][partition];
                    await cluster.KillAsync(victim);
                    await Task.Delay(downMs);
                    await cluster.StartNodeAsync(victim);
                    await ReplicatedTopic.WaitForLeadersAsync(cluster, Topic, Partitions, cluster.Nodes);
                    output.WriteLine($"node {victim} killed and back; {workload.Acknowledged} acknowledged so far");
                }
                break;
            }
            case "power-cuts":
            {
                // One node's power cut (a leader's), then the whole cluster's at once: what was acknowledged must be on a
                // majority's disks, not in a page cache.
                Assert.All(cluster.Nodes, n => Assert.Contains("writes are held in memory until fdatasync", cluster.Output(n.Id)));
                int partition = draw.Next(Partitions);
                var (oneDownMs, allDownMs) = (300 + draw.Next(1500), 300 + draw.Next(1500));
                output.WriteLine($"seed {seed}: power cut of the leader of partition {partition} (down {oneDownMs} ms), then of all three nodes at once (down {allDownMs} ms)");
                int victim = (await cluster.MetadataAsync(cluster.Nodes.First(n => n.IsRunning).Id))!.Leaders[Topic][partition];
                await cluster.KillAsync(victim);
                await Task.Delay(oneDownMs);
                await cluster.StartNodeAsync(victim);
                await ReplicatedTopic.WaitForLeadersAsync(cluster, Topic, Partitions, cluster.Nodes);
                int afterOne = workload.Acknowledged;
                await EddyCluster.WaitUntilAsync(() => Task.FromResult(workload.Acknowledged > afterOne + 100), Settle, "producing goes on after the first cut");
                int beforeCut = workload.Acknowledged;
                foreach (var node in cluster.Nodes) node.Process!.Signal(9);
                foreach (var node in cluster.Nodes) await node.Process!.WaitForExitAsync();
                output.WriteLine($"node {victim} cut and back; all cut with {beforeCut} acknowledged");
                await Task.Delay(allDownMs);
                await Task.WhenAll(cluster.Nodes.Select(n => cluster.StartNodeAsync(n.Id)));
                await ReplicatedTopic.WaitForLeadersAsync(cluster, Topic, Partitions, cluster.Nodes);
                break;
            }
            default:
                throw new ArgumentException(fault);
        }
        int atHeal = workload.Acknowledged;
        await EddyCluster.WaitUntilAsync(() => Task.FromResult(workload.Acknowledged > atHeal + 200), Settle, "producing goes on after the fault");
        await workload.StopAsync(producing);
        output.WriteLine($"{workload.Acknowledged} acknowledged, {workload.Failed} failed (not acknowledged: allowed to be lost)");

        var read = ReplicatedTopic.ReadAll(cluster.Bootstrap, Topic, ReplicatedTopic.Ends(workload.Records));
        foreach (var (partition, offset, value) in workload.Records)
        {
            Assert.True(read.TryGetValue((partition, offset), out var found), $"acknowledged {value} at {partition}/{offset} is missing");
            Assert.Equal(value, found);
        }
        Assert.Equal(read.Count, read.Values.Distinct().Count()); // no record twice
        // One record in flight per key: a key's acknowledgements come in its sequence order, and so must its offsets.
        foreach (var key in workload.Records.GroupBy(r => r.Value.Split('-')[0]))
        {
            var offsets = key.Select(r => r.Offset).ToList();
            Assert.True(key.Select(r => r.Partition).Distinct().Count() == 1 && offsets.SequenceEqual(offsets.Order()), $"key {key.Key} reordered");
        }

        // Every replica converges: all in sync again, then the same bytes in every node's files, looked at while the
        // nodes run (a new leader's first batch may still be on its way to a follower when the in-sync set says 3: a new
        // leader counts every follower in sync), then once more after they stop.
        await EddyCluster.WaitUntilAsync(async () => (await cluster.MetadataAsync(1))?.InSync[Topic].All(isr => isr.Length == 3) == true,
            Settle, "every replica back in sync");
        var deadline = DateTime.UtcNow + Settle;
        while (!Enumerable.Range(0, Partitions).All(p => Differences(cluster, p) is null) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        foreach (var node in cluster.Nodes) node.Process!.Signal(9);
        foreach (var node in cluster.Nodes) await node.Process!.WaitForExitAsync();
        for (int p = 0; p < Partitions; p++)
        {
            if (Differences(cluster, p) is { } differ)
            {
                foreach (var node in cluster.Nodes)
                {
                    output.WriteLine($"node {node.Id}, the end of its warnings:");
                    foreach (var line in cluster.Output(node.Id).Split('\n').Where(l => l.Contains("WARN", StringComparison.Ordinal)).TakeLast(20)) output.WriteLine(line);
                }
                Assert.Fail($"partition {p}'s replicas differ: {differ}");
            }
        }
    }

    /// <summary>How the replicas of <paramref name="partition"/> differ in the nodes' files, or null when they hold the
    /// same bytes (and some).</summary>
    private static string? Differences(EddyCluster cluster, int partition)
    {
        var logs = cluster.Nodes.Select(n => ReplicaLogs.Read(ReplicaLogs.DirectoryOf(n.DataDirectory, Topic, partition))).ToList();
        return logs[0].Length > 0 && logs.All(l => l.AsSpan().SequenceEqual(logs[0]))
            ? null
            : $"{string.Join(", ", logs.Select(l => l.Length))} bytes";
    }

    /// <summary>An idempotent acks=all producer sending "KEY-SEQUENCE" records over 10 keys, one at a time per key, and
    /// what was acknowledged where.</summary>
    private sealed class Workload(string bootstrap) : IDisposable
    {
        private readonly List<(int Partition, long Offset, string Value)> _records = [];
        private readonly CancellationTokenSource _stop = new();
        private int _failed;

        public int Acknowledged { get { lock (_records) return _records.Count; } }
        public int Failed => Volatile.Read(ref _failed);
        public IReadOnlyList<(int Partition, long Offset, string Value)> Records => _records;

        public Task RunAsync() => Task.Run(async () =>
        {
            using var producer = new ProducerBuilder<string, string>(new ProducerConfig
            {
                BootstrapServers = bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 2, MessageTimeoutMs = 60_000,
                RequestTimeoutMs = 3_000, TopicMetadataRefreshIntervalMs = 1_000,
            }).Build();
            var keys = Enumerable.Range(0, 10).Select(k => Task.Run(async () =>
            {
                for (int i = 0; !_stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        var result = await producer.ProduceAsync(Topic, new Message<string, string> { Key = $"k{k}", Value = $"k{k}-{i}" });
                        lock (_records) _records.Add((result.Partition.Value, result.Offset.Value, result.Message.Value));
                    }
                    catch (ProduceException<string, string>)
                    {
                        Interlocked.Increment(ref _failed);
                    }
                }
            })).ToList();
            await Task.WhenAll(keys);
        });

        public async Task StopAsync(Task running)
        {
            _stop.Cancel();
            await running;
        }

        public void Dispose() => _stop.Dispose();
    }
}
