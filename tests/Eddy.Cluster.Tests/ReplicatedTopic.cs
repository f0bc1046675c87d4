using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Cluster.Tests;

/// <summary>What the replicated-partition scenarios share: creating a topic with three replicas, waiting for every
/// partition of a topic to have an elected leader that every node names, and reading a topic back whole from its
/// leaders.</summary>
internal static class ReplicatedTopic
{
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);

    /// <summary>Creates <paramref name="topic"/> with three replicas per partition.</summary>
    public static async Task CreateAsync(EddyCluster cluster, string topic, int partitions, Dictionary<string, string>? configs = null)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.Bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 3, Configs = configs }]);
    }

    /// <summary>Waits until each of <paramref name="nodes"/> names a leader (other than <paramref name="not"/>) for every
    /// partition of <paramref name="topic"/>.</summary>
    public static Task WaitForLeadersAsync(EddyCluster cluster, string topic, int partitions, IEnumerable<EddyCluster.Node> nodes, int not = 0)
        => EddyCluster.WaitUntilAsync(async () =>
        {
            foreach (var node in nodes)
            {
                var seen = await cluster.MetadataAsync(node.Id);
                if (seen is null || !seen.Leaders.TryGetValue(topic, out var leaders) || leaders.Length != partitions || leaders.Any(l => l <= 0 || l == not))
                {
                    return false;
                }
            }
            return true;
        }, Settle, $"every node names an elected leader of each partition of '{topic}'{(not > 0 ? $" other than node {not}" : "")}");

    /// <summary>Every record of each partition below its end in <paramref name="ends"/>, by partition and offset; an
    /// offset read twice fails the test.</summary>
    public static Dictionary<(int Partition, long Offset), string> ReadAll(string bootstrap, string topic, Dictionary<int, long> ends)
    {
        var read = new Dictionary<(int, long), string>();
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"{topic}-check", EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(ends.Keys.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var next = ends.Keys.ToDictionary(p => p, _ => 0L);
        var deadline = DateTime.UtcNow + Settle;
        while (ends.Any(e => next[e.Key] < e.Value) && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } record)
            {
                Assert.True(read.TryAdd((record.Partition.Value, record.Offset.Value), record.Message.Value), $"offset {record.Offset} read twice");
                next[record.Partition.Value] = record.Offset.Value + 1;
            }
        }
        return read;
    }

    /// <summary>Each partition's end after the acknowledged records: what <see cref="ReadAll"/> must reach.</summary>
    public static Dictionary<int, long> Ends(IEnumerable<(int Partition, long Offset, string Value)> acknowledged)
        => acknowledged.GroupBy(a => a.Partition).ToDictionary(g => g.Key, g => g.Max(a => a.Offset) + 1);
}
