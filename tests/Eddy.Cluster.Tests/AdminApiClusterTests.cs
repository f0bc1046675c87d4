using System.Net;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// The admin API of a 3-node cluster: every node lists the same three brokers, each partition of a replicated topic
/// with its elected leader, epoch, replicas and in-sync replicas as the Kafka Metadata gives them, the high watermark
/// of its own replica once the produced records are committed, and a healthy cluster under one controller; a cluster
/// property changed through one node taking effect on all; a node's Kafka role switched off and on at run time; a
/// node decommissioned: drained of its replicas, then removed, with every acknowledged record kept.
/// </summary>
public sealed class AdminApiClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EddyCluster _cluster = null!;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public async Task InitializeAsync()
    {
        // A follower leaves the in-sync replicas 2 s after it stops answering, not Kafka's 30 s.
        _cluster = await EddyCluster.StartAsync(3, "--replica-lag-time-max-ms", "2000");
        await EddyCluster.WaitUntilAsync(_cluster.AgreesAsync, ReplicatedTopic.Settle, "3 nodes agree");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(EddyCluster.Node node, string path)
    {
        Assert.True(node.AdminPort > 0, $"node {node.Id} said where its admin API listens");
        using var response = await Http.GetAsync($"http://127.0.0.1:{node.AdminPort}{path}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }

    /// <summary>The sum of a metric's samples (one per shard) in a scrape.</summary>
    private static double Sum(string metrics, string name) => metrics.Split('\n')
        .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task EveryNodeDescribesTheSameBrokersAndPartitionsAsKafkaMetadataDoes()
    {
        await ReplicatedTopic.CreateAsync(_cluster, "watched", 2);
        await ReplicatedTopic.WaitForLeadersAsync(_cluster, "watched", 2, _cluster.Nodes);
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _cluster.Bootstrap, Acks = Acks.All }).Build())
        {
            for (int i = 0; i < 20; i++)
            {
                await producer.ProduceAsync(new TopicPartition("watched", i % 2), new Message<Null, string> { Value = $"r{i}" });
            }
        }

        foreach (var node in _cluster.Nodes)
        {
            var (status, brokers) = await GetAsync(node, "/v1/brokers");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal([1, 2, 3], brokers.EnumerateArray().Select(b => b.GetProperty("node_id").GetInt32()));
            Assert.All(brokers.EnumerateArray(), b => Assert.Equal(["kafka", "admin"], b.GetProperty("roles").EnumerateArray().Select(r => r.GetString())));
            var self = brokers.EnumerateArray().Single(b => b.GetProperty("node_id").GetInt32() == node.Id);
            Assert.Equal(node.Bootstrap, self.GetProperty("kafka_address").GetString());
            // Every node's version, asked of it: all run the same build here.
            Assert.Single(brokers.EnumerateArray().Select(b => (b.GetProperty("version").GetString(), b.GetProperty("logical_version").GetInt32())).Distinct());
            Assert.All(brokers.EnumerateArray(), b => Assert.True(b.GetProperty("is_alive").GetBoolean(), $"node {node.Id} sees {b} up"));
        }

        // The same leaders as Kafka's Metadata; wait for both to settle on the same view (leaders report to the
        // controller, and every node applies its log).
        await EddyCluster.WaitUntilAsync(async () =>
        {
            foreach (var node in _cluster.Nodes)
            {
                var metadata = await _cluster.MetadataAsync(node.Id);
                var (_, partitions) = await GetAsync(node, "/v1/partitions");
                var watched = partitions.EnumerateArray().Where(p => p.GetProperty("topic").GetString() == "watched")
                    .OrderBy(p => p.GetProperty("partition_id").GetInt32()).ToList();
                if (metadata is null || watched.Count != 2
                    || !watched.Select(p => p.GetProperty("leader_id").GetInt32()).SequenceEqual(metadata.Leaders["watched"])
                    || watched.Any(p => p.GetProperty("replicas").GetArrayLength() != 3 || p.GetProperty("isr").GetArrayLength() != 3))
                {
                    return false;
                }
            }
            return true;
        }, ReplicatedTopic.Settle, "every node's /v1/partitions names Metadata's leaders, 3 replicas and 3 in sync");

        // Each node's replica of partition 0 reaches the 10 committed records.
        foreach (var node in _cluster.Nodes)
        {
            await EddyCluster.WaitUntilAsync(async () =>
            {
                var (status, partition) = await GetAsync(node, "/v1/partitions/kafka/watched/0");
                Assert.Equal(HttpStatusCode.OK, status);
                return partition.TryGetProperty("high_watermark", out var hw) && hw.GetInt64() >= 10;
            }, ReplicatedTopic.Settle, $"node {node.Id}'s replica of watched/0 holds the 10 records as committed");
            var (_, detail) = await GetAsync(node, "/v1/partitions/kafka/watched/0");
            output.WriteLine($"node {node.Id}: {detail}");
            Assert.True(detail.GetProperty("leader_epoch").GetInt32() >= 1);
        }

        // The leaders' commits were timed, and each partition's first leadership counted, on some node's shard.
        double commits = 0, gained = 0;
        foreach (var node in _cluster.Nodes)
        {
            string metrics = await Http.GetStringAsync($"http://127.0.0.1:{node.AdminPort}/metrics");
            commits += Sum(metrics, "eddy_raft_commit_latency_seconds_count");
            gained += Sum(metrics, "eddy_raft_leaderships_gained_total");
        }
        Assert.True(commits >= 20, $"{commits} commits timed for 20 acks=all records");
        Assert.True(gained >= 2, $"{gained} leaderships gained for the 2 partitions");

        var (missing, error) = await GetAsync(_cluster[1], "/v1/partitions/kafka/watched/7");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal(404, error.GetProperty("code").GetInt32());

        int controller = (await _cluster.MetadataAsync(1))!.ControllerId;
        await EddyCluster.WaitUntilAsync(async () =>
        {
            var (_, health) = await GetAsync(_cluster[2], "/v1/cluster/health_overview");
            return health.GetProperty("is_healthy").GetBoolean() && health.GetProperty("controller_id").GetInt32() == controller
                && health.GetProperty("all_nodes").GetArrayLength() == 3 && health.GetProperty("nodes_down").GetArrayLength() == 0;
        }, ReplicatedTopic.Settle, $"node 2 reports a healthy cluster under controller {controller}");
    }

    [Fact]
    public async Task AClusterPropertyChangedThroughOneNodeTakesEffectOnEvery()
    {
        using (var put = await Http.PutAsync($"http://127.0.0.1:{_cluster[1].AdminPort}/v1/cluster_config",
            new StringContent("""{"upsert": {"auto_create_topics_enabled": false, "default_topic_partitions": 3}}""")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        await EddyCluster.WaitUntilAsync(async () =>
        {
            foreach (var node in _cluster.Nodes)
            {
                var (_, config) = await GetAsync(node, "/v1/cluster_config");
                if (config.GetProperty("auto_create_topics_enabled").GetBoolean() || config.GetProperty("default_topic_partitions").GetInt32() != 3)
                {
                    return false;
                }
            }
            return true;
        }, ReplicatedTopic.Settle, "every node applies the change made through node 1");
        var (_, status) = await GetAsync(_cluster[2], "/v1/cluster_config/status");
        Assert.Equal([1, 2, 3], status.EnumerateArray().Select(s => s.GetProperty("node_id").GetInt32()));
        Assert.Single(status.EnumerateArray().Select(s => s.GetProperty("config_version").GetInt64()).Distinct());
        Assert.All(status.EnumerateArray(), s => Assert.False(s.GetProperty("restart").GetBoolean()));

        // Node 3 no longer creates a topic a client asks for; once the property is removed it does, with 3 partitions.
        async Task<DeliveryResult<Null, string>?> TryProduceAsync()
        {
            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _cluster[3].Bootstrap, MessageTimeoutMs = 3000 }).Build();
            try
            {
                return await producer.ProduceAsync("made-on-demand", new Message<Null, string> { Value = "x" });
            }
            catch (ProduceException<Null, string>)
            {
                return null;
            }
        }
        Assert.Null(await TryProduceAsync());
        Assert.False((await _cluster.MetadataAsync(2))!.Leaders.ContainsKey("made-on-demand"));

        using (var put = await Http.PutAsync($"http://127.0.0.1:{_cluster[2].AdminPort}/v1/cluster_config",
            new StringContent("""{"remove": ["auto_create_topics_enabled"]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        await EddyCluster.WaitUntilAsync(async () => (await GetAsync(_cluster[3], "/v1/cluster_config")).Body.GetProperty("auto_create_topics_enabled").GetBoolean(),
            ReplicatedTopic.Settle, "node 3 applies the removal made through node 2");
        Assert.NotNull(await TryProduceAsync());
        Assert.Equal(3, (await _cluster.MetadataAsync(1))!.Leaders["made-on-demand"].Length);
    }

    [Fact]
    public async Task AKilledNodeIsDownAndLeavesItsPartitionsUnderReplicatedInTheHealthOverview()
    {
        await ReplicatedTopic.CreateAsync(_cluster, "fragile", 1);
        await ReplicatedTopic.WaitForLeadersAsync(_cluster, "fragile", 1, _cluster.Nodes);
        output.WriteLine("schedule: SIGKILL node 3 once every node names a leader of fragile/0");
        await _cluster.KillAsync(3);
        await EddyCluster.WaitUntilAsync(async () =>
        {
            var (_, health) = await GetAsync(_cluster[1], "/v1/cluster/health_overview");
            return !health.GetProperty("is_healthy").GetBoolean()
                && health.GetProperty("under_replicated_partitions").EnumerateArray().Any(p => p.GetString() == "fragile/0");
        }, ReplicatedTopic.Settle, "node 1 reports fragile/0 under-replicated once node 3 is gone");
        await EddyCluster.WaitUntilAsync(async () =>
        {
            var (_, health) = await GetAsync(_cluster[2], "/v1/cluster/health_overview");
            var (_, brokers) = await GetAsync(_cluster[2], "/v1/brokers");
            return health.TryGetProperty("nodes_down", out var down) && down.EnumerateArray().Select(n => n.GetInt32()).SequenceEqual([3])
                && brokers.EnumerateArray().All(b => b.GetProperty("is_alive").GetBoolean() == (b.GetProperty("node_id").GetInt32() != 3));
        }, ReplicatedTopic.Settle, "node 2 reports node 3 down and nodes 1 and 2 up");
        // A node that does not answer may run an older version: the cluster's is not known meanwhile.
        var (_, features) = await GetAsync(_cluster[1], "/v1/features");
        Assert.False(features.TryGetProperty("cluster_version", out _));
        Assert.Equal([3], features.GetProperty("nodes_not_answering").EnumerateArray().Select(n => n.GetInt32()));
        Assert.All(features.GetProperty("features").EnumerateArray(), f => Assert.Equal("unknown", f.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task ANodesKafkaRoleSwitchedOffClosesItsListenerAndMovesItsLeadershipAwayUntilSwitchedOn()
    {
        await ReplicatedTopic.CreateAsync(_cluster, "roled", 3);
        await ReplicatedTopic.WaitForLeadersAsync(_cluster, "roled", 3, _cluster.Nodes);
        Assert.True(await AcceptsAsync(_cluster[2]), "node 2 listens for Kafka clients before its role is switched");

        output.WriteLine("schedule: roles@2 = \"\" through node 1, then removed through node 3");
        await PutConfigAsync(1, """{"upsert": {"roles@2": ""}}""");
        await EddyCluster.WaitUntilAsync(async () =>
        {
            var metadata = await _cluster.MetadataAsync(1);
            return metadata is not null && !await AcceptsAsync(_cluster[2])
                && metadata.Brokers.Select(b => b.Id).Order().SequenceEqual([1, 3])
                && metadata.Leaders.TryGetValue("roled", out var leaders) && leaders.All(l => l is 1 or 3);
        }, ReplicatedTopic.Settle, "node 2 stops listening, and node 1's Metadata lists neither it nor a leader on it");
        var (_, broker) = await GetAsync(_cluster[3], "/v1/brokers/2");
        Assert.Equal(["admin"], broker.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        var (_, config) = await GetAsync(_cluster[2], "/v1/cluster_config");
        Assert.Equal(("kafka", ""), (config.GetProperty("roles").GetString(), config.GetProperty("roles@2").GetString()));
        // Node 2 still keeps its replicas: acks=all through the others needs it or one other.
        await ProduceToEveryPartitionAsync($"{_cluster[1].Bootstrap},{_cluster[3].Bootstrap}");

        await PutConfigAsync(3, """{"remove": ["roles@2"]}""");
        await EddyCluster.WaitUntilAsync(async () => await AcceptsAsync(_cluster[2])
            && (await _cluster.MetadataAsync(2))?.Brokers.Count == 3, ReplicatedTopic.Settle, "node 2 listens again and is listed");
        await ProduceToEveryPartitionAsync(_cluster[2].Bootstrap);
        (_, broker) = await GetAsync(_cluster[1], "/v1/brokers/2");
        Assert.Equal(["kafka", "admin"], broker.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task ADecommissionedNodeIsDrainedOfItsReplicasThenRemovedAndNothingAcknowledgedIsLost()
    {
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _cluster.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "drained", NumPartitions = 4, ReplicationFactor = 2 }]);
        }
        await ReplicatedTopic.WaitForLeadersAsync(_cluster, "drained", 4, _cluster.Nodes);
        var acknowledged = new List<(int Partition, long Offset, string Value)>();
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _cluster.Bootstrap, Acks = Acks.All }).Build())
        {
            for (int i = 0; i < 40; i++)
            {
                var delivered = await producer.ProduceAsync(new TopicPartition("drained", i % 4), new Message<Null, string> { Value = $"d{i}" });
                acknowledged.Add((delivered.Partition.Value, delivered.Offset.Value, delivered.Message.Value));
            }
        }

        Assert.Equal(HttpStatusCode.NotFound, await PutStatusAsync(1, "/v1/brokers/9/decommission"));
        Assert.Equal(HttpStatusCode.BadRequest, await PutStatusAsync(1, "/v1/brokers/x/decommission"));
        Assert.Equal(HttpStatusCode.BadRequest, await PutStatusAsync(1, "/v1/brokers/2/recommission")); // not draining
        output.WriteLine("schedule: decommission node 3 through node 1 once 40 records are acknowledged");
        Assert.Equal(HttpStatusCode.OK, await PutStatusAsync(1, "/v1/brokers/3/decommission"));
        Assert.Equal(HttpStatusCode.OK, await PutStatusAsync(2, "/v1/brokers/3/decommission")); // again: it is draining already
        var (_, draining) = await GetAsync(_cluster[1], "/v1/brokers/3");
        Assert.Equal("draining", draining.GetProperty("membership_status").GetString());

        await EddyCluster.WaitUntilAsync(async () =>
            (await GetAsync(_cluster[2], "/v1/brokers/3/decommission")).Body.GetProperty("status").GetString() == "removed",
            ReplicatedTopic.Settle, "node 3 is drained and removed");
        var (_, progress) = await GetAsync(_cluster[2], "/v1/brokers/3/decommission");
        Assert.Equal((true, 0, 0), (progress.GetProperty("finished").GetBoolean(), progress.GetProperty("replicas_left").GetInt32(),
            progress.GetProperty("single_replica_partitions").GetInt32()));
        var (_, brokers) = await GetAsync(_cluster[2], "/v1/brokers");
        Assert.Equal([1, 2], brokers.EnumerateArray().Select(b => b.GetProperty("node_id").GetInt32()));
        var (_, partition) = await GetAsync(_cluster[2], "/v1/partitions/kafka/drained/0");
        Assert.DoesNotContain(3, partition.GetProperty("replicas").EnumerateArray().Select(r => r.GetInt32()));

        // Every acknowledged record is still there, read from the nodes that stay.
        string remaining = $"{_cluster[1].Bootstrap},{_cluster[2].Bootstrap}";
        var read = ReplicatedTopic.ReadAll(remaining, "drained", ReplicatedTopic.Ends(acknowledged));
        Assert.All(acknowledged, a => Assert.Equal(a.Value, read.GetValueOrDefault((a.Partition, a.Offset))));
    }

    private async Task<HttpStatusCode> PutStatusAsync(int through, string path)
    {
        using var put = await Http.PutAsync($"http://127.0.0.1:{_cluster[through].AdminPort}{path}", new StringContent(""));
        return put.StatusCode;
    }

    private async Task PutConfigAsync(int through, string body)
    {
        using var put = await Http.PutAsync($"http://127.0.0.1:{_cluster[through].AdminPort}/v1/cluster_config", new StringContent(body));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
    }

    private static async Task ProduceToEveryPartitionAsync(string bootstrap)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, MessageTimeoutMs = 20000 }).Build();
        for (int p = 0; p < 3; p++)
        {
            var delivered = await producer.ProduceAsync(new TopicPartition("roled", p), new Message<Null, string> { Value = $"to {p}" });
            Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        }
    }

    /// <summary>Whether the node's Kafka port accepts a TCP connection.</summary>
    private static async Task<bool> AcceptsAsync(EddyCluster.Node node)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Parse(node.Address), node.KafkaPort);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
