using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Cluster.Tests;

/// <summary>
/// A 3-node cluster in network namespaces (a veth pair per node to a bridge): cutting one node's link leaves the other
/// two serving (a controller among them, topics created through them, their partitions produced to), and the cut node
/// rejoins once its link is back. Which node is cut is drawn from a printed seed.
/// </summary>
public sealed class PartitionedClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task CuttingOneNodeOffLeavesTheOtherTwoServing()
    {
        int seed = Random.Shared.Next(1 << 16);
        var draw = new Random(seed);
        await using var cluster = await EddyCluster.StartInNamespacesAsync(3);
        await EddyCluster.WaitUntilAsync(cluster.AgreesAsync, Settle, "3 nodes agree");
        int controller = (await cluster.MetadataAsync(1))!.ControllerId;
        // Half the seeds cut the controller's leader, the others a follower.
        int cut = draw.Next(2) == 0 ? controller : cluster.Nodes.Select(n => n.Id).Where(id => id != controller).ElementAt(draw.Next(2));
        var survivors = cluster.Nodes.Where(n => n.Id != cut).ToList();
        output.WriteLine($"seed {seed}: controller leader is node {controller}; cutting node {cut}'s link, then healing it");

        cluster.Namespaces!.Cut(cut);
        var elected = await EddyCluster.WaitUntilAsync(() => cluster.NameAControllerOtherThanAsync(cut, survivors), Settle, "both connected nodes name a controller among them");
        output.WriteLine($"the connected nodes named a controller among them {elected.TotalMilliseconds:0} ms after the cut");

        string bootstrap = string.Join(',', survivors.Select(n => n.Bootstrap));
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "during-the-cut", NumPartitions = 6, ReplicationFactor = 1 }]);
        }
        await EddyCluster.WaitUntilAsync(async () => (await cluster.MetadataAsync(survivors[0].Id))?.Leaders.ContainsKey("during-the-cut") == true,
            Settle, "the topic is known");
        var placed = (await cluster.MetadataAsync(survivors[0].Id))!.Leaders["during-the-cut"];
        output.WriteLine($"during-the-cut leaders: {string.Join(',', placed)}");
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, MessageTimeoutMs = 10_000 }).Build())
        {
            // The partitions the connected nodes lead take writes; those placed on the cut node wait for it.
            for (int p = 0; p < placed.Length; p++)
            {
                if (placed[p] != cut)
                {
                    var written = await producer.ProduceAsync(new TopicPartition("during-the-cut", p), new Message<Null, string> { Value = "while one node is cut off" });
                    Assert.Equal(PersistenceStatus.Persisted, written.Status);
                }
            }
        }

        cluster.Namespaces.Heal(cut);
        var healed = await EddyCluster.WaitUntilAsync(async () =>
        {
            var seen = await cluster.MetadataAsync(cut);
            return seen is not null && seen.Leaders.ContainsKey("during-the-cut") && await cluster.AgreesAsync();
        }, TimeSpan.FromSeconds(90), "the healed node catches up and all agree");
        output.WriteLine($"the healed node caught up {healed.TotalMilliseconds:0} ms after its link came back");
    }
}
