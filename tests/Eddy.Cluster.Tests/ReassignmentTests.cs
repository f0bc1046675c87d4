using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Eddy.Kafka.Protocol.Messages;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// Moving a replicated partition (AlterPartitionReassignments, ListPartitionReassignments) on four nodes (processes of
/// the published binary): the partition's three replicas move to a set that adds the fourth node and drops the leader
/// itself, while an idempotent acks=all producer keeps sending. The new replica catches up from the leader's log, the
/// leader hands its leadership away before it leaves, the removed replica's data is deleted, every acknowledged record
/// is read back once, and the new set's logs hold the same bytes. A dead node's removal (UnregisterBroker) makes its
/// replica again on the spare node. Requests that cannot be done are refused with Kafka's errors.
/// </summary>
public sealed class ReassignmentTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = ReplicatedTopic.Settle;
    private const string Topic = "moving";

    [Fact]
    public async Task APartitionMovesOffItsLeaderToANewNodeWhileProducingAndLosesNothing()
    {
        await using var cluster = await EddyCluster.StartAsync(4);
        using var admin = await AdminOnceAgreedAsync(cluster);
        var replicas = await CreateTopicAsync(cluster, admin);
        int leader = (await cluster.MetadataAsync(1))!.Leaders[Topic][0];
        int newcomer = cluster.Nodes.Select(n => n.Id).Single(id => !replicas.Contains(id));
        int[] target = [newcomer, .. replicas.Where(r => r != leader)];
        output.WriteLine($"replicas [{string.Join(", ", replicas)}], leader {leader}; moving to [{string.Join(", ", target)}] while producing");

        var acknowledged = new List<(int Partition, long Offset, string Value)>();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = cluster.Bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 5, MessageTimeoutMs = 60_000,
        }).Build();
        async Task ProduceAsync(string round, int count)
        {
            for (int i = 0; i < count; i += 50)
            {
                var sends = Enumerable.Range(i, 50).Select(j => producer.ProduceAsync(Topic, new Message<string, string> { Key = "k", Value = $"{round}-{j}" })).ToList();
                foreach (var sent in sends)
                {
                    var result = await sent;
                    acknowledged.Add((result.Partition.Value, result.Offset.Value, result.Message.Value));
                }
            }
        }
        await ProduceAsync("before", 500);

        using var client = new RawClient(cluster[1].KafkaPort);
        var during = ProduceAsync("during", 1500);
        var altered = await client.CallAsync<AlterPartitionReassignmentsResponse>(0, 1, Reassign(target));
        var answer = altered.Responses.Single().Partitions.Single();
        Assert.True(answer.ErrorCode == 0, $"the reassignment was refused: {answer.ErrorCode} {answer.ErrorMessage}");

        var took = await EddyCluster.WaitUntilAsync(async () =>
        {
            var listed = await client.CallAsync<ListPartitionReassignmentsResponse>(0, 2, new ListPartitionReassignmentsRequest { Topics = null });
            foreach (var moving in listed.Topics.SelectMany(t => t.Partitions))
            {
                Assert.Equal([newcomer], moving.AddingReplicas);
                Assert.Equal([leader], moving.RemovingReplicas);
            }
            return listed.Topics.Count == 0 && (await ReplicasAsync(admin)).Order().SequenceEqual(target.Order());
        }, Settle, $"partition 0 has replicas [{string.Join(", ", target)}] and no move in progress");
        output.WriteLine($"moved {took.TotalMilliseconds:0} ms after the request; the leaders' steps:");
        foreach (var line in cluster.Nodes.SelectMany(n => cluster.Output(n.Id).Split('\n')).Where(l => l.Contains("moving to replicas") || l.Contains("moved to replicas")).Order())
        {
            output.WriteLine(line);
        }
        await during;
        await ProduceAsync("after", 500);
        Assert.NotEqual(leader, (await cluster.MetadataAsync(newcomer))!.Leaders[Topic][0]);
        await EddyCluster.WaitUntilAsync(() => Task.FromResult(PartitionDirectories(cluster[leader]).Length == 0), Settle,
            $"node {leader}'s replica is deleted");

        var read = ReplicatedTopic.ReadAll(cluster.Bootstrap, Topic, ReplicatedTopic.Ends(acknowledged));
        foreach (var (partition, offset, value) in acknowledged)
        {
            Assert.True(read.TryGetValue((partition, offset), out var found), $"acknowledged {value} at {partition}/{offset} is missing");
            Assert.Equal(value, found);
        }
        Assert.Equal(read.Count, read.Values.Distinct().Count());

        await EddyCluster.WaitUntilAsync(async () => (await cluster.MetadataAsync(newcomer))?.InSync[Topic][0].Length == 3, Settle, "the new replicas in sync");
        await Task.Delay(1000);
        foreach (var node in cluster.Nodes) node.Process!.Signal(9);
        foreach (var node in cluster.Nodes) await node.Process!.WaitForExitAsync();
        var logs = target.Select(id => ReplicaLogs.Read(ReplicaLogs.DirectoryOf(cluster[id].DataDirectory, Topic, 0))).ToList();
        Assert.True(logs[0].Length > 0);
        Assert.True(logs.All(l => l.AsSpan().SequenceEqual(logs[0])), $"the replicas differ: {string.Join(", ", logs.Select(l => l.Length))} bytes");
    }

    [Fact]
    public async Task ADeadNodesRemovalMakesItsReplicasAgainOnAnotherNode()
    {
        await using var cluster = await EddyCluster.StartAsync(4);
        using var admin = await AdminOnceAgreedAsync(cluster);
        var replicas = await CreateTopicAsync(cluster, admin);
        int controller = (await cluster.MetadataAsync(1))!.ControllerId;
        int dead = replicas.First(r => r != controller); // the controller's leader would hand over first: not this test's subject
        int spare = cluster.Nodes.Select(n => n.Id).Single(id => !replicas.Contains(id));
        output.WriteLine($"replicas [{string.Join(", ", replicas)}]; SIGKILL node {dead}, then UnregisterBroker it: node {spare} takes its replica");

        var acknowledged = new List<(int Partition, long Offset, string Value)>();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = cluster.Bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 5, MessageTimeoutMs = 60_000,
        }).Build())
        {
            foreach (int i in Enumerable.Range(0, 500))
            {
                producer.Produce(Topic, new Message<string, string> { Key = "k", Value = $"v-{i}" }, r => { lock (acknowledged) acknowledged.Add((r.Partition.Value, r.Offset.Value, r.Message.Value)); });
            }
            producer.Flush(TimeSpan.FromSeconds(60));
        }
        Assert.Equal(500, acknowledged.Count);
        await cluster.KillAsync(dead);
        using (var client = new RawClient(cluster[controller].KafkaPort))
        {
            Assert.Equal(0, (await client.CallAsync<UnregisterBrokerResponse>(0, 1, new UnregisterBrokerRequest { BrokerId = dead })).ErrorCode);
        }
        int[] expected = [.. replicas.Where(r => r != dead).Append(spare).Order()];
        var took = await EddyCluster.WaitUntilAsync(async () => (await ReplicasAsync(admin)).Order().SequenceEqual(expected)
            && (await cluster.MetadataAsync(spare))?.InSync[Topic][0].Order().SequenceEqual(expected) == true,
            Settle, $"partition 0 on [{string.Join(", ", expected)}], all in sync");
        output.WriteLine($"replicas [{string.Join(", ", expected)}] in sync {took.TotalMilliseconds:0} ms after the removal");

        var read = ReplicatedTopic.ReadAll(cluster.Bootstrap, Topic, ReplicatedTopic.Ends(acknowledged));
        Assert.All(acknowledged, a => Assert.Equal(a.Value, read[(a.Partition, a.Offset)]));
        foreach (var node in cluster.Nodes.Where(n => n.IsRunning)) node.Process!.Signal(9);
        foreach (var node in cluster.Nodes.Where(n => n.Process is not null)) await node.Process!.WaitForExitAsync();
        var logs = expected.Select(id => ReplicaLogs.Read(ReplicaLogs.DirectoryOf(cluster[id].DataDirectory, Topic, 0))).ToList();
        Assert.True(logs.All(l => l.Length > 0 && l.AsSpan().SequenceEqual(logs[0])), $"the replicas differ: {string.Join(", ", logs.Select(l => l.Length))} bytes");
    }

    [Fact]
    public async Task ReassignmentsThatCannotBeDoneAreRefusedWithKafkasErrors()
    {
        await using var cluster = await EddyCluster.StartAsync(3);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "3 nodes agree");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.Bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 1, ReplicationFactor = 3 },
                new TopicSpecification { Name = "single", NumPartitions = 1, ReplicationFactor = 1 }]);
        }
        await ReplicatedTopic.WaitForLeadersAsync(cluster, Topic, 1, cluster.Nodes);
        using var client = new RawClient(cluster[1].KafkaPort);
        async Task<(short Error, string? Message)> AlterAsync(string topic, int partition, int[]? replicas, short version = 0, bool allowResize = true)
        {
            var request = new AlterPartitionReassignmentsRequest { AllowReplicationFactorChange = allowResize };
            request.Topics.Add(new AlterPartitionReassignmentsRequest.ReassignableTopic
            {
                Name = topic, Partitions = [new AlterPartitionReassignmentsRequest.ReassignablePartition { PartitionIndex = partition, Replicas = replicas?.ToList() }],
            });
            var answer = (await client.CallAsync<AlterPartitionReassignmentsResponse>(version, 1, request)).Responses.Single().Partitions.Single();
            output.WriteLine($"{topic}/{partition} -> [{(replicas is null ? "cancel" : string.Join(", ", replicas))}]: {answer.ErrorCode} {answer.ErrorMessage}");
            return (answer.ErrorCode, answer.ErrorMessage);
        }

        Assert.Equal(39, (await AlterAsync(Topic, 0, [1, 2, 99])).Error);          // INVALID_REPLICA_ASSIGNMENT: no node 99
        Assert.Equal(39, (await AlterAsync(Topic, 0, [1, 1, 2])).Error);           // a node twice
        Assert.Equal(39, (await AlterAsync(Topic, 0, [1])).Error);                 // a replicated partition keeps two at least
        Assert.Equal(39, (await AlterAsync("single", 0, [1, 2])).Error);           // a single replica is no group to move
        Assert.Equal(3, (await AlterAsync(Topic, 5, [1, 2, 3])).Error);            // UNKNOWN_TOPIC_OR_PARTITION
        Assert.Equal(3, (await AlterAsync("nothing", 0, [1, 2, 3])).Error);
        Assert.Equal(85, (await AlterAsync(Topic, 0, null)).Error);                // NO_REASSIGNMENT_IN_PROGRESS
        Assert.Equal(38, (await AlterAsync(Topic, 0, [1, 2], version: 1, allowResize: false)).Error); // INVALID_REPLICATION_FACTOR
        var listed = await client.CallAsync<ListPartitionReassignmentsResponse>(0, 2, new ListPartitionReassignmentsRequest { Topics = null });
        Assert.Empty(listed.Topics);
        Assert.Equal(0, (await cluster.MetadataAsync(2))!.Leaders[Topic].Count(l => l <= 0)); // still served
    }

    /// <summary>An admin client made once every node names the same controller: librdkafka's admin client sends
    /// CreateTopics to the controller its metadata names; one made while the cluster still formed (its first metadata
    /// naming no controller) once waited out its whole timeout ("Failed while waiting for controller: Local: Timed out").</summary>
    private static async Task<IAdminClient> AdminOnceAgreedAsync(EddyCluster cluster)
    {
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, $"{cluster.Nodes.Count} nodes agree");
        return new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.Bootstrap }).Build();
    }

    /// <summary>Once the four nodes agree: the topic, one partition with three replicas, led; its replicas.</summary>
    private static async Task<int[]> CreateTopicAsync(EddyCluster cluster, IAdminClient admin)
    {
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "4 nodes agree");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 1, ReplicationFactor = 3 }]);
        await ReplicatedTopic.WaitForLeadersAsync(cluster, Topic, 1, cluster.Nodes);
        var replicas = await ReplicasAsync(admin);
        Assert.Equal(3, replicas.Length);
        return replicas;
    }

    private static AlterPartitionReassignmentsRequest Reassign(int[] target)
    {
        var request = new AlterPartitionReassignmentsRequest();
        request.Topics.Add(new AlterPartitionReassignmentsRequest.ReassignableTopic
        {
            Name = Topic, Partitions = [new AlterPartitionReassignmentsRequest.ReassignablePartition { PartitionIndex = 0, Replicas = [.. target] }],
        });
        return request;
    }

    private static async Task<int[]> ReplicasAsync(IAdminClient admin)
    {
        var described = (await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([Topic]))).TopicDescriptions.Single();
        return [.. described.Partitions.Single().Replicas.Select(r => r.Id)];
    }

    private static string[] PartitionDirectories(EddyCluster.Node node)
    {
        string topic = Path.Combine(node.DataDirectory, "kafka", Topic);
        return Directory.Exists(topic) ? Directory.GetDirectories(topic, "0_*") : [];
    }
}
