using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>
/// kcat's balanced consumer (-G: subscribe through the group coordinator, Debian's librdkafka 2.0) against the
/// in-process node: it reads every message of a three-partition topic, and the offsets it commits as it exits are
/// the end of each partition, so a second run in the same group reads only what was produced since.
/// </summary>
public partial class KcatGroupTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private const string Topic = "kcat-group-topic", Group = "kcat-group";
    private const int Partitions = 3;

    [GeneratedRegex(@"^(\d+) (\d+) (k\d+)$", RegexOptions.Multiline)]
    private static partial Regex ConsumedLine();

    private async Task ProduceAsync(int from, int count)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = node.Bootstrap, Acks = Acks.All, LingerMs = 5 }).Build();
        for (int i = from; i < from + count; i++)
        {
            producer.Produce(new TopicPartition(Topic, i % Partitions), new Message<Null, string> { Value = $"k{i}" });
        }
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
    }

    /// <summary>kcat -G until <paramref name="count"/> messages (-c: -e does not end a balanced consumer), as (partition, offset, value).</summary>
    private async Task<List<(int Partition, long Offset, string Value)>> KcatConsumeAsync(int count)
    {
        var (code, output) = await DebianClientTests.RunAsync("kcat", null, "-b", node.Bootstrap, "-G", Group, "-c", count.ToString(), "-q",
            "-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=6000", "-f", "%p %o %s\n", Topic);
        Assert.True(code == 0, output);
        return ConsumedLine().Matches(output).Select(m => (int.Parse(m.Groups[1].Value), long.Parse(m.Groups[2].Value), m.Groups[3].Value)).ToList();
    }

    private async Task<long[]> CommittedAsync()
    {
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        var results = await admin.ListConsumerGroupOffsetsAsync(
            [new ConsumerGroupTopicPartitions(Group, Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)).ToList())]);
        var partitions = Assert.Single(results).Partitions;
        Assert.All(partitions, p => Assert.False(p.Error.IsError, p.Error.ToString()));
        return partitions.OrderBy(p => p.Partition.Value).Select(p => p.Offset.Value).ToArray();
    }

    private static void AssertReadExactly(List<(int Partition, long Offset, string Value)> consumed, int from, int count)
    {
        Assert.Equal(Enumerable.Range(from, count).Select(i => $"k{i}").Order(), consumed.Select(c => c.Value).Order());
        foreach (var c in consumed)
        {
            // Message i is the (i / 3)-th of partition i % 3.
            int i = int.Parse(c.Value[1..]);
            Assert.Equal((i % Partitions, (long)(i / Partitions)), (c.Partition, c.Offset));
        }
    }

    [Fact]
    public async Task KcatBalancedConsumerReadsEverythingAndCommitsWhereItStopped()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        using (var admin = ConfluentClientTests.Admin(node.Bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
        }
        await ProduceAsync(0, 1500);
        AssertReadExactly(await KcatConsumeAsync(1500), 0, 1500);
        Assert.Equal(new long[] { 500, 500, 500 }, await CommittedAsync());

        // The same group again: kcat starts at the committed offsets, not at the beginning.
        await ProduceAsync(1500, 300);
        AssertReadExactly(await KcatConsumeAsync(300), 1500, 300);
        Assert.Equal(new long[] { 600, 600, 600 }, await CommittedAsync());
    }
}
