using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Xunit.Abstractions;

namespace Eddy.Broker.Tests;

/// <summary>
/// Three Confluent consumers in one group (subscribe, range assignment) over a six-partition topic that a producer
/// keeps writing to, on a node on a data directory the test owns:
/// <list type="bullet">
/// <item>they share the partitions: each is owned by exactly one member, two each, and the broker's DescribeGroups
/// says the same;</item>
/// <item>one leaving hands its partitions to the other two (three each); one joining takes two back;</item>
/// <item>the node restarts on the same port and data while they consume and commit (in one test an in-process node
/// stopped as on SIGINT, in the other `eddy start` killed with SIGKILL): every commit the broker acknowledged before
/// the restart is still committed after it, and consumption goes on in every partition; after that a member leaves
/// again and the rest take over;</item>
/// <item>at the end the union of everything consumed is exactly every offset of every partition up to the high
/// watermark, with the value stored there, and the group's committed offsets are the high watermarks.</item>
/// </list>
/// Duplicates, stated exactly: each member commits every message synchronously before taking the next, so a message
/// may be consumed again (by whoever owns its partition next, or after the restart) only when the commit after an
/// earlier consumption of it failed. The test asserts that every consumption of an offset but the last one had a
/// failed commit; a message consumed twice after an acknowledged commit fails the test.
/// </summary>
public sealed class ConsumerGroupRestartTests(ITestOutputHelper output) : IDisposable
{
    private const string Topic = "group-six", Group = "six-partition-group";
    private const int Partitions = 6;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-group-restart-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    [Fact]
    public async Task ThreeConsumersShareSixPartitionsRebalanceCommitAndContinueAcrossACleanRestart()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        var node = await InProcessNode.StartAsync(_data);
        try
        {
            int port = node.Server.Port;
            await ShareRebalanceAndRestartAsync(node.Bootstrap, async () =>
            {
                await node.DisposeAsync(); // as on SIGINT: in-flight requests are answered, logs flushed and closed
                node = null;
                node = await InProcessNode.StartAsync(_data, port: port);
            });
        }
        finally
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ThreeConsumersShareSixPartitionsRebalanceCommitAndContinueAcrossASigkill()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        var eddy = await EddyProcess.StartAsync("--smp", "2", "--kafka-addr", "127.0.0.1:0", "--data-dir", _data);
        try
        {
            int port = eddy.Port;
            await ShareRebalanceAndRestartAsync(eddy.Bootstrap, async () =>
            {
                eddy.Signal(9); // in the middle of fetches and commits
                await eddy.WaitForExitAsync();
                eddy.Dispose();
                eddy = await EddyProcess.StartAsync("--smp", "2", "--kafka-addr", $"127.0.0.1:{port}", "--data-dir", _data);
            });
            await eddy.StopAsync();
        }
        finally
        {
            eddy.Dispose();
        }
    }

    private async Task ShareRebalanceAndRestartAsync(string bootstrap, Func<Task> restart)
    {
        using (var admin = ConfluentClientTests.Admin(bootstrap))
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
        }
        var log = new ConsumptionLog();
        var members = new List<GroupMember>();
        using var producer = new SteadyProducer(bootstrap, Topic, Partitions, TimeSpan.FromMilliseconds(5));
        try
        {
            GroupMember Join(string name)
            {
                var member = new GroupMember(name, bootstrap, Group, Topic, log);
                members.Add(member);
                return member;
            }
            var a = Join("a");
            var b = Join("b");
            var c = Join("c");
            await SharedAsync([a, b, c], members);
            await UntilAsync(() => log.Snapshot().Select(x => x.Member).Distinct().Count() == 3, "each member consumes", members);
            await BrokerAgreesAsync(bootstrap, [a, b, c]);

            c.Dispose(); // Close() leaves the group
            await SharedAsync([a, b], members);
            var d = Join("d");
            await SharedAsync([a, b, d], members);
            await UntilAsync(() => log.Snapshot().Any(x => x.Member == "d"), "the new member consumes", members);

            // Restart while they consume and commit.
            var acknowledgedBefore = log.Acknowledged();
            await restart();
            long restartMark = log.Snapshot().Count;
            var committed = await CommittedAsync(bootstrap);
            foreach (var (partition, offset) in acknowledgedBefore)
            {
                Assert.True(committed[partition] >= offset, $"partition {partition}: {offset} was acknowledged before the restart, {committed[partition]} is committed after it");
            }
            await UntilAsync(() => log.Snapshot().Where(x => x.Sequence >= restartMark).Select(x => x.Partition).Distinct().Count() == Partitions,
                "consumption goes on in every partition after the restart", members);
            await SharedAsync([a, b, d], members);
            await BrokerAgreesAsync(bootstrap, [a, b, d]);

            a.Dispose();
            await SharedAsync([b, d], members);

            var reports = await producer.StopAsync();
            Assert.All(reports, r => Assert.False(r.Error.IsError, r.Error.ToString()));
            var ends = TopicReader.HighWatermarks(bootstrap, Topic, Partitions);
            Assert.Equal(reports.Count, ends.Sum());
            await UntilAsync(() => CoversEverything(log.Snapshot(), ends), "everything produced is consumed", members);
            await UntilAsync(() => log.Acknowledged().Count == Partitions && log.Acknowledged().All(x => x.Value == ends[x.Key]), "the last commits are acknowledged", members);
            foreach (var member in members)
            {
                member.Dispose();
            }

            var consumed = log.Snapshot();
            output.WriteLine($"{reports.Count} produced, {consumed.Count} consumed ({consumed.Count - restartMark} after the restart), "
                + $"{consumed.Count(x => !x.CommitAcknowledged)} commits failed, "
                + $"{consumed.GroupBy(x => (x.Partition, x.Offset)).Count(g => g.Count() > 1)} offsets consumed more than once");
            foreach (var member in members)
            {
                output.WriteLine($"{member.Name}: {string.Join(" | ", member.Errors.Take(20))}");
            }
            // The log holds each delivered message once, where its report said, and members saw the values stored there.
            var stored = TopicReader.ReadAll(bootstrap, Topic, Partitions)
                .ToDictionary(r => (r.Partition.Value, r.Offset.Value), r => System.Text.Encoding.UTF8.GetString(r.Message.Value!));
            Assert.Equal(reports.Select(r => r.Message.Value).Order(), stored.Values.Order());
            Assert.All(reports, r => Assert.Equal(r.Message.Value, stored[(r.Partition.Value, r.Offset.Value)]));
            Assert.All(consumed, x => Assert.Equal(stored[(x.Partition, x.Offset)], x.Value));
            Assert.True(CoversEverything(consumed, ends));
            foreach (var again in consumed.GroupBy(x => (x.Partition, x.Offset)).Where(g => g.Count() > 1))
            {
                var earlier = again.OrderBy(x => x.Sequence).SkipLast(1).ToList();
                Assert.True(earlier.All(x => !x.CommitAcknowledged),
                    $"{again.Key} was consumed again after an acknowledged commit: {string.Join("; ", again)}");
            }
            committed = await CommittedAsync(bootstrap);
            Assert.Equal(ends, Enumerable.Range(0, Partitions).Select(p => committed[p]));
        }
        finally
        {
            foreach (var member in members)
            {
                member.Dispose();
            }
        }
    }

    private static bool CoversEverything(List<Consumption> consumed, long[] ends)
    {
        var seen = consumed.Select(x => (x.Partition, x.Offset)).ToHashSet();
        return Enumerable.Range(0, Partitions).All(p => Enumerable.Range(0, (int)ends[p]).All(o => seen.Contains((p, o))))
            && seen.All(x => x.Offset < ends[x.Partition]);
    }

    /// <summary>Waits until the members own disjoint, equal shares that together cover every partition.</summary>
    private static Task SharedAsync(GroupMember[] owners, List<GroupMember> all) => UntilAsync(() =>
    {
        var shares = owners.Select(m => m.Owned).ToList();
        return shares.All(s => s.Count == Partitions / owners.Length)
            && shares.SelectMany(s => s).Order().SequenceEqual(Enumerable.Range(0, Partitions));
    }, $"{string.Join(", ", owners.Select(m => m.Name))} own {Partitions / owners.Length} partitions each", all);

    /// <summary>The group as the broker describes it: these members (by client id), stable, with the partitions each says it owns.</summary>
    private static async Task BrokerAgreesAsync(string bootstrap, GroupMember[] members)
    {
        using var admin = ConfluentClientTests.Admin(bootstrap);
        string view = "";
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            var description = Assert.Single((await admin.DescribeConsumerGroupsAsync([Group])).ConsumerGroupDescriptions);
            var brokerView = description.Members.ToDictionary(m => m.ClientId, m => m.Assignment.TopicPartitions.Select(tp => tp.Partition.Value).Order().ToList());
            view = $"{description.State}: " + string.Join("; ", brokerView.Select(kv => $"{kv.Key}=[{string.Join(",", kv.Value)}]"));
            if (description.State == ConsumerGroupState.Stable && brokerView.Count == members.Length
                && members.All(m => brokerView.TryGetValue(m.Name, out var owned) && owned.SequenceEqual(m.Owned.Order())))
            {
                return;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"the broker describes the group as {view}; members say {string.Join("; ", members.Select(m => $"{m.Name}=[{string.Join(",", m.Owned.Order())}]"))}");
    }

    private static async Task<Dictionary<int, long>> CommittedAsync(string bootstrap)
    {
        using var admin = ConfluentClientTests.Admin(bootstrap);
        var results = await admin.ListConsumerGroupOffsetsAsync(
            [new ConsumerGroupTopicPartitions(Group, Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)).ToList())],
            new ListConsumerGroupOffsetsOptions { RequestTimeout = TimeSpan.FromSeconds(30) });
        var partitions = Assert.Single(results).Partitions;
        Assert.All(partitions, p => Assert.False(p.Error.IsError, p.Error.ToString()));
        // An offset never committed is -1001 (Offset.Unset); count it as 0.
        return partitions.ToDictionary(p => p.Partition.Value, p => Math.Max(0, p.Offset.Value));
    }

    private static async Task UntilAsync(Func<bool> condition, string what, List<GroupMember> members)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"waited {Patience.TotalSeconds} s for: {what}\n" + string.Join("\n", members.Select(m =>
                    $"{m.Name} owns [{string.Join(",", m.Owned.Order())}], errors: {string.Join(" | ", m.Errors.TakeLast(10))}")));
            }
            await Task.Delay(100);
        }
    }
}
