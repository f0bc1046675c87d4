using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// Where a replicated partition's log starts, and what compaction keeps, on three nodes (processes of the published
/// binary): retention moves each replica's log start, and a follower that was down while the leader's start passed its
/// log end restarts its log there and holds the same bytes from there on; a follower that was down while the leader
/// compacted catches up through the gaps, and every replica keeps each key's newest record; DeleteRecords moves every
/// replica's start, which a new leader keeps after the old one's SIGKILL.
/// </summary>
public sealed class ReplicatedLogStartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Settle = ReplicatedTopic.Settle;
    private EddyCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        // Housekeeping every 500 ms, and followers out of sync after 1.5 s, so "back in sync" means caught up.
        _cluster = await EddyCluster.StartAsync(3, "--replica-lag-time-max-ms", "1500", "--log-retention-check-interval-ms", "500");
        await EddyCluster.WaitUntilAsync(_cluster.AgreesAsync, Settle, "3 nodes agree");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task WaitForLeadersAsync(string topic, int partitions, IEnumerable<EddyCluster.Node> nodes)
        => ReplicatedTopic.WaitForLeadersAsync(_cluster, topic, partitions, nodes);

    [Fact]
    public async Task AFollowerDownWhileRetentionPassedItRestartsItsLogAtTheLeadersStartAndHoldsTheSameBytes()
    {
        const string Topic = "retained";
        const int RetentionBytes = 256 << 10;
        await CreateAsync(Topic, 1, new Dictionary<string, string> { ["segment.bytes"] = "65536", ["retention.bytes"] = RetentionBytes.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await WaitForLeadersAsync(Topic, 1, _cluster.Nodes);
        await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(1))!.InSync[Topic][0].Length == 3, Settle, "all three replicas in sync");
        int leader = (await _cluster.MetadataAsync(1))!.Leaders[Topic][0];
        int follower = leader % 3 + 1;
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 5,
        }).Build();
        var acknowledged = new List<(long Offset, string Value)>();
        async Task ProduceAsync(int count, string prefix)
        {
            var sends = Enumerable.Range(0, count).Select(i => producer.ProduceAsync(Topic, new Message<string, string> { Key = $"k{i % 10}", Value = $"{prefix}-{i}-{new string('x', 200)}" })).ToList();
            foreach (var sent in await Task.WhenAll(sends)) acknowledged.Add((sent.Offset.Value, sent.Message.Value));
        }
        await ProduceAsync(10, "held");

        // Killed rather than stopped: a stopped follower would still find in its socket's buffers much of what the
        // leader sent meanwhile, and need no snapshot.
        output.WriteLine($"schedule: SIGKILL follower node {follower} of leader {leader}; 6000 records; retention every 500 ms keeps {RetentionBytes} bytes; node {follower} restarted");
        await _cluster.KillAsync(follower);
        await ProduceAsync(6000, "while-down");
        using (var watcher = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = _cluster.Bootstrap, GroupId = "retained-watch" }).Build())
        {
            await EddyCluster.WaitUntilAsync(() => Task.FromResult(watcher.QueryWatermarkOffsets(new TopicPartition(Topic, 0), TimeSpan.FromSeconds(5)).Low.Value > 100),
                Settle, "retention moves the leader's log start");
        }
        await _cluster.StartNodeAsync(follower);
        await _cluster[follower].Process!.WaitForOutputAsync("restarts its log at offset", Settle);
        await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(leader))!.InSync[Topic][0].Length == 3, Settle, "the follower is back in sync");
        await ProduceAsync(10, "after");

        // A consumer from the beginning starts at the leader's start and reads every acknowledged record from there.
        long end = acknowledged.Max(a => a.Offset) + 1;
        var read = ReplicatedTopic.ReadAll(_cluster.Bootstrap, Topic, new Dictionary<int, long> { [0] = end });
        long first = read.Keys.Min(k => k.Offset);
        Assert.True(first > 100, $"read from offset {first}, below the leader's start");
        Assert.All(acknowledged.Where(a => a.Offset >= first), a => Assert.Equal(a.Value, read.GetValueOrDefault((0, a.Offset))));

        foreach (var node in _cluster.Nodes) node.Process!.Signal(9);
        foreach (var node in _cluster.Nodes) await node.Process!.WaitForExitAsync();
        var directories = _cluster.Nodes.Select(n => ReplicaLogs.DirectoryOf(n.DataDirectory, Topic, 0)).ToList();
        long from = directories.Max(ReplicaLogs.FirstOffset);
        Assert.True(ReplicaLogs.FirstOffset(ReplicaLogs.DirectoryOf(_cluster[follower].DataDirectory, Topic, 0)) > 0, "the follower's log still starts at 0");
        var logs = directories.Select(d => ReplicaLogs.Read(d, from)).ToList();
        Assert.True(logs.All(l => l.Length > 0 && l.AsSpan().SequenceEqual(logs[0])), $"the replicas differ from offset {from}: {string.Join(", ", logs.Select(l => l.Length))} bytes");
    }

    [Fact]
    public async Task AFollowerDownWhileTheLeaderCompactedCatchesUpThroughTheGapsAndKeepsEachKeysNewestRecord()
    {
        const string Topic = "compacted";
        await CreateAsync(Topic, 1, new Dictionary<string, string> { ["segment.bytes"] = "65536", ["cleanup.policy"] = "compact" });
        await WaitForLeadersAsync(Topic, 1, _cluster.Nodes);
        await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(1))!.InSync[Topic][0].Length == 3, Settle, "all three replicas in sync");
        int leader = (await _cluster.MetadataAsync(1))!.Leaders[Topic][0];
        int follower = leader % 3 + 1;
        // Batches of 20 records, each key once: every batch but the last is wholly superseded, so compaction leaves gaps.
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 5, BatchNumMessages = 20,
        }).Build();
        var newest = new Dictionary<string, (long Offset, string Value)>();
        async Task ProduceAsync(int count, string prefix)
        {
            var sends = Enumerable.Range(0, count).Select(i => producer.ProduceAsync(Topic, new Message<string, string> { Key = $"k{i % 20}", Value = $"{prefix}-{i}-{new string('x', 200)}" })).ToList();
            foreach (var sent in await Task.WhenAll(sends)) newest[sent.Message.Key] = (sent.Offset.Value, sent.Message.Value);
        }
        await ProduceAsync(10, "held");

        output.WriteLine($"schedule: SIGKILL follower node {follower} of leader {leader}; 3000 records over 20 keys; compaction every 500 ms; node {follower} restarted");
        await _cluster.KillAsync(follower);
        // Passes are counted from before the records: one that ends between the last record and a count taken after it
        // would leave nothing new to compact (a pass that removes nothing says nothing), and the wait would never end.
        int passes = Compactions(leader);
        await ProduceAsync(3000, "while-down");
        // At least one compaction pass while the follower is down: the segments it lacks have gaps when it returns.
        await EddyCluster.WaitUntilAsync(() => Task.FromResult(Compactions(leader) > passes), Settle, $"leader {leader} compacts what was produced");
        await _cluster.StartNodeAsync(follower);
        await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(leader))!.InSync[Topic][0].Length == 3, Settle, "the follower is back in sync");
        await ProduceAsync(10, "after");

        // A consumer from the beginning finds each key's newest record at its offset.
        long end = newest.Values.Max(n => n.Offset) + 1;
        var read = ReplicatedTopic.ReadAll(_cluster.Bootstrap, Topic, new Dictionary<int, long> { [0] = end });
        Assert.True(read.Count < 1000, $"{read.Count} records read: the leader's log was not compacted");
        Assert.All(newest.Values, n => Assert.Equal(n.Value, read.GetValueOrDefault((0, n.Offset))));
        // kafka-python too, which would return the records of the leader's no-op (a control batch) to the application,
        // and fails on a response of empty batches only: it reads each key's newest and nothing but the keys written.
        var (code, stdout, stderr) = await ChildProcess.RunAsync("/usr/bin/python3", null,
            Path.Combine(AppContext.BaseDirectory, "clients", "kafka_python_read.py"), _cluster.Bootstrap, Topic);
        Assert.True(code == 0, stdout + stderr);
        var python = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("end ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')).ToList();
        Assert.All(python, p => Assert.True(p.Length == 3 && newest.ContainsKey(p[1]), $"kafka-python read '{string.Join(' ', p)}'"));
        Assert.All(newest.Values, n => Assert.Contains(python, p => p[0] == n.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture) && p[2] == n.Value));

        foreach (var node in _cluster.Nodes) node.Process!.Signal(9);
        foreach (var node in _cluster.Nodes) await node.Process!.WaitForExitAsync();
        var logs = _cluster.Nodes.ToDictionary(n => n.Id, n => ReplicaLogs.Read(ReplicaLogs.DirectoryOf(n.DataDirectory, Topic, 0)));
        foreach (var (node, log) in logs)
        {
            Assert.Equal(newest.OrderBy(n => n.Key).Select(n => (n.Key, n.Value.Offset, n.Value.Value)), NewestOfEachKey(log));
        }
        Assert.True(HasEmptyBatch(logs[follower]), $"node {follower} caught up without a batch standing in for removed records");
    }

    [Fact]
    public async Task DeleteRecordsMovesEveryReplicasStartWhichHoldsAcrossTheLeadersSigkill()
    {
        const string Topic = "trimmed";
        const long Start = 1234;
        await CreateAsync(Topic, 1, new Dictionary<string, string> { ["segment.bytes"] = "65536" });
        await WaitForLeadersAsync(Topic, 1, _cluster.Nodes);
        await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(1))!.InSync[Topic][0].Length == 3, Settle, "all three replicas in sync");
        int leader = (await _cluster.MetadataAsync(1))!.Leaders[Topic][0];
        var acknowledged = new List<(long Offset, string Value)>();
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _cluster.Bootstrap, Acks = Acks.All, LingerMs = 5 }).Build())
        {
            var sends = Enumerable.Range(0, 2000).Select(i => producer.ProduceAsync(Topic, new Message<Null, string> { Value = $"{i}-{new string('x', 200)}" })).ToList();
            foreach (var sent in await Task.WhenAll(sends)) acknowledged.Add((sent.Offset.Value, sent.Message.Value));
        }
        output.WriteLine($"schedule: 2000 records; DeleteRecords to {Start} on leader {leader}; SIGKILL of node {leader}; node {leader} restarted");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.Bootstrap }).Build())
        {
            var deleted = await admin.DeleteRecordsAsync([new TopicPartitionOffset(Topic, 0, Start)]);
            Assert.Equal(Start, Assert.Single(deleted).Offset.Value);
        }
        long end = acknowledged.Max(a => a.Offset) + 1;
        Assert.Equal(Start, LowWatermark(_cluster.Bootstrap, Topic));

        await _cluster.KillAsync(leader);
        await ReplicatedTopic.WaitForLeadersAsync(_cluster, Topic, 1, _cluster.Nodes.Where(n => n.Id != leader), not: leader);
        // The new leader applied the start as a follower: the same low watermark, and consumers start there.
        await EddyCluster.WaitUntilAsync(() => Task.FromResult(LowWatermark(_cluster.Bootstrap, Topic) == Start), Settle, "the new leader reports the same log start");
        var read = ReplicatedTopic.ReadAll(_cluster.Bootstrap, Topic, new Dictionary<int, long> { [0] = end });
        Assert.Equal(Start, read.Keys.Min(k => k.Offset));
        Assert.All(acknowledged.Where(a => a.Offset >= Start), a => Assert.Equal(a.Value, read.GetValueOrDefault((0, a.Offset))));

        await _cluster.StartNodeAsync(leader);
        await EddyCluster.WaitUntilAsync(async () => (await _cluster.MetadataAsync(leader))!.InSync[Topic][0].Length == 3, Settle, "the killed node is back in sync");
        foreach (var node in _cluster.Nodes) node.Process!.Signal(9);
        foreach (var node in _cluster.Nodes) await node.Process!.WaitForExitAsync();
        foreach (var node in _cluster.Nodes)
        {
            long first = ReplicaLogs.FirstOffset(ReplicaLogs.DirectoryOf(node.DataDirectory, Topic, 0));
            Assert.True(first > 0 && first <= Start, $"node {node.Id}'s log starts at {first}: the segments below {Start} were not deleted");
        }
    }

    /// <summary>Partition 0's log start as its leader reports it to a new client; -1 while the client finds no leader.</summary>
    private static long LowWatermark(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = $"{topic}-watch" }).Build();
        try
        {
            return consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(5)).Low.Value;
        }
        catch (KafkaException)
        {
            return -1;
        }
    }

    private int Compactions(int node) => System.Text.RegularExpressions.Regex.Count(_cluster[node].Process!.Output, "compacted, ");

    private static List<(string Key, long Offset, string Value)> NewestOfEachKey(byte[] log)
    {
        var newest = new SortedDictionary<string, (long, string)>(StringComparer.Ordinal);
        foreach (var batch in new Eddy.Records.BatchEnumerator(log))
        {
            if (batch.IsControl) continue;
            var reader = batch.ReadRecords();
            while (reader.TryNext(out var record))
            {
                newest[System.Text.Encoding.UTF8.GetString(record.Key)] = (record.Offset, System.Text.Encoding.UTF8.GetString(record.Value));
            }
        }
        return [.. newest.Select(n => (n.Key, n.Value.Item1, n.Value.Item2))];
    }

    private static bool HasEmptyBatch(byte[] log)
    {
        foreach (var batch in new Eddy.Records.BatchEnumerator(log))
        {
            if (batch.RecordCount == 0) return true;
        }
        return false;
    }

    private Task CreateAsync(string topic, int partitions, Dictionary<string, string>? configs = null)
        => ReplicatedTopic.CreateAsync(_cluster, topic, partitions, configs);
}
