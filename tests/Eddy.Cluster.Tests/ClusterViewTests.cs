using Eddy.Cluster;

namespace Eddy.Cluster.Tests;

/// <summary>
/// The controller's state machine on its own: commands applied in log order give the same view on every node
/// (placement included), repeated or stale commands change nothing, a snapshot reads back as the view it was taken
/// from, and producer id blocks never overlap.
/// </summary>
public class ClusterViewTests
{
    private static readonly int[] Voters = [1, 2, 3];

    private static TopicInfo Topic(string name, int partitions, Guid? id = null)
        => new(name, id ?? Guid.NewGuid(), partitions, 1, new Dictionary<string, string>(), 0, false);

    private static ClusterView Formed()
        => ClusterView.Empty.Apply(ControllerCommand.CreateCluster("c0ffee00-0000-4000-8000-000000000001"), Voters);

    private static ClusterView Create(ClusterView view, TopicInfo topic) => view.Apply(ControllerCommand.ForTopic(ControllerCommandType.CreateTopic, topic), Voters);

    [Fact]
    public void TheSameCommandsGiveTheSamePlacementAndSpreadItEvenly()
    {
        var topics = Enumerable.Range(0, 20).Select(i => Topic($"t{i}", 1 + i % 7)).ToList();
        var first = topics.Aggregate(Formed(), Create);
        var second = topics.Aggregate(Formed(), Create);
        foreach (var topic in topics)
        {
            Assert.Equal(first.Topics[topic.Name].Replicas.Select(r => r[0]), second.Topics[topic.Name].Replicas.Select(r => r[0]));
        }
        var led = first.Topics.Values.SelectMany(t => Enumerable.Range(0, t.PartitionCount).Select(t.LeaderOf)).GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Voters, led.Keys.Order());
        Assert.True(led.Values.Max() - led.Values.Min() <= 1, string.Join(',', led));
        Assert.Equal(21, first.NextRevision); // one revision per creation
    }

    [Fact]
    public void ACreateForATakenNameAndChangesToAnotherIncarnationChangeNothing()
    {
        var topic = Topic("orders", 3);
        var view = Create(Formed(), topic);
        Assert.Same(view, Create(view, Topic("orders", 5)));
        var withUnderscore = Create(view, Topic("ord_ers", 1));
        Assert.Same(withUnderscore, Create(withUnderscore, Topic("ord.ers", 1))); // metric names would collide
        // Another incarnation's id (the topic was deleted and created again meanwhile) touches nothing.
        Assert.Same(view, view.Apply(ControllerCommand.ForTopic(ControllerCommandType.DeleteTopic, Topic("orders", 3)), Voters));

        var grown = view.Apply(ControllerCommand.ForTopic(ControllerCommandType.CreatePartitions, view.Topics["orders"] with { PartitionCount = 6 }), Voters);
        Assert.Equal(6, grown.Topics["orders"].PartitionCount);
        Assert.Equal(view.Topics["orders"].Replicas.Take(3).Select(r => r[0]), grown.Topics["orders"].Replicas.Take(3).Select(r => r[0]));
        Assert.Same(grown, grown.Apply(ControllerCommand.ForTopic(ControllerCommandType.CreatePartitions, view.Topics["orders"] with { PartitionCount = 4 }), Voters));

        var deleted = grown.Apply(ControllerCommand.ForTopic(ControllerCommandType.DeleteTopic, topic), Voters);
        Assert.False(deleted.Topics.ContainsKey("orders"));
        Assert.Same(deleted, deleted.Apply(ControllerCommand.ForTopic(ControllerCommandType.DeleteTopic, topic), Voters));
    }

    [Fact]
    public void ASnapshotReadsBackAsTheViewItWasTakenFrom()
    {
        var view = Create(Formed(), Topic("events", 4) with { Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" } })
            .Apply(ControllerCommand.RegisterBroker(new BrokerInfo(2, "b2.example", 9092, "b2.example", 33145, "rack-b", 4, 3)), Voters)
            .Apply(ControllerCommand.ReserveProducerIds(2, 1000), Voters)
            .Apply(ControllerCommand.RemoveNode(3), Voters);
        var back = ClusterView.Decode(view.Encode());
        Assert.Equal([3], back.Removed);
        Assert.Equal(view.ClusterId, back.ClusterId);
        Assert.Equal(view.Brokers, back.Brokers);
        Assert.Equal((view.NextRevision, view.NextProducerId), (back.NextRevision, back.NextProducerId));
        Assert.Equal(view.ProducerIdBlocks, back.ProducerIdBlocks);
        var (was, now) = (view.Topics["events"], back.Topics["events"]);
        Assert.Equal((was.Id, was.PartitionCount, was.Revision, was.Configs["cleanup.policy"]), (now.Id, now.PartitionCount, now.Revision, now.Configs["cleanup.policy"]));
        Assert.Equal(was.Replicas.Select(r => r[0]), now.Replicas.Select(r => r[0]));
        Assert.Throws<Rpc.RpcFormatException>(() => ClusterView.Decode(view.Encode().AsSpan(0, 20)));
    }

    [Fact]
    public void AConfigChangeTravelsInTheLogSetsAndRemovesAndSurvivesASnapshot()
    {
        var change = ControllerCommand.SetClusterConfig([new("default_topic_partitions", "3"), new("log_level", "debug")], []);
        var decoded = ControllerCommand.Decode(change.Encode());
        Assert.Equal(change.Upserts, decoded.Upserts);
        var view = Formed().Apply(decoded, Voters)
            .Apply(ControllerCommand.SetClusterConfig([new("from_a_newer_node", "x")], ["log_level"]), Voters);
        Assert.Equal(2, view.ConfigVersion);
        Assert.Equal(new Dictionary<string, string> { ["default_topic_partitions"] = "3", ["from_a_newer_node"] = "x" }, view.Config);
        Assert.Equal("3", ClusterProperties.SetIn(view.Config, ClusterProperties.DefaultTopicPartitions));
        Assert.Null(ClusterProperties.SetIn(view.Config, ClusterProperties.LogLevelProperty));

        var back = ClusterView.Decode(view.Encode());
        Assert.Equal(view.ConfigVersion, back.ConfigVersion);
        Assert.Equal(view.Config.OrderBy(c => c.Key).ToList(), back.Config.OrderBy(c => c.Key).ToList());
    }

    [Fact]
    public void AReassignmentSetsATargetThatItsCompletionMakesTheReplicasAndACancelRevertsIt()
    {
        var view = Create(Formed().Apply(ControllerCommand.RegisterBroker(new BrokerInfo(4, "b4", 9092, "b4", 33145, "", 1, 1)), Voters),
            Topic("moving", 2) with { ReplicationFactor = 3 });
        var topic = view.Topics["moving"];
        int outside = Voters.Append(4).Except(topic.Replicas[1]).Single();
        int[] target = [outside, .. topic.Replicas[1].Skip(1)];
        // Each command goes through its encoding, as the controller's log holds it.
        ClusterView Apply(ClusterView v, ControllerCommandType type, params (int Partition, int[] Nodes)[] targets)
        {
            var set = new int[]?[topic.PartitionCount];
            foreach (var (partition, nodes) in targets) set[partition] = nodes;
            return v.Apply(ControllerCommand.Decode(ControllerCommand.ForTopic(type, topic with { Targets = set }).Encode()), Voters);
        }

        var moving = Apply(view, ControllerCommandType.ReassignPartitions, (1, target));
        Assert.Equal(target, moving.Topics["moving"].TargetOf(1));
        Assert.Null(moving.Topics["moving"].TargetOf(0));
        Assert.True(moving.Topics["moving"].HasReplicaOn(1, outside)); // the new node opens its replica
        Assert.True(moving.Topics["moving"].HasReplicaOn(1, topic.Replicas[1][0])); // the old one keeps it until done
        Assert.Equal(target, ClusterView.Decode(moving.Encode()).Topics["moving"].TargetOf(1)); // and in a snapshot
        Assert.Null(Apply(view, ControllerCommandType.ReassignPartitions, (1, [1, 2, 99])).Topics["moving"].TargetOf(1)); // no node 99: skipped

        // A completion naming another set (a target replaced meanwhile) is ignored; the target's own makes it the replicas.
        Assert.Equal(topic.Replicas[1], Apply(moving, ControllerCommandType.CompleteReassignment, (1, topic.Replicas[1])).Topics["moving"].Replicas[1]);
        var done = Apply(moving, ControllerCommandType.CompleteReassignment, (1, [.. target.Reverse()])).Topics["moving"];
        Assert.Equal(target, done.Replicas[1]);
        Assert.Empty(done.Targets);
        Assert.False(done.HasReplicaOn(1, topic.Replicas[1][0]));

        // Cancelling makes the old replicas the target again (the leader undoes its steps, then completes).
        var cancelled = Apply(moving, ControllerCommandType.ReassignPartitions, (1, [])).Topics["moving"];
        Assert.Equal(topic.Replicas[1], cancelled.TargetOf(1));
        Assert.Empty(Apply(view, ControllerCommandType.ReassignPartitions, (1, [])).Topics["moving"].Targets); // nothing to cancel
    }

    [Fact]
    public void ADrainingNodeLeavesPlacementHasItsReplicasReassignedAwayAndStaysInASnapshotUntilRemoved()
    {
        var view = Create(Formed().Apply(ControllerCommand.RegisterBroker(new BrokerInfo(4, "b4", 9092, "b4", 33145, "", 1, 1)), Voters),
            Topic("held", 4) with { ReplicationFactor = 2 });
        ClusterView Apply(ClusterView v, ControllerCommand command) => v.Apply(ControllerCommand.Decode(command.Encode()), Voters);
        Assert.True(view.ReplicasOn(3).Replicated > 0, "placement put replicas on node 3");

        var draining = Apply(view, ControllerCommand.DecommissionNode(3));
        Assert.Equal([3], draining.Draining);
        Assert.Equal([1, 2, 4], draining.PlacementNodes(Voters));
        var held = draining.Topics["held"];
        for (int p = 0; p < 4; p++)
        {
            if (view.Topics["held"].Replicas[p].Contains(3))
            {
                Assert.DoesNotContain(3, held.TargetOf(p)!);
                Assert.Equal(2, held.TargetOf(p)!.Length); // another node in its place: the replication factor is kept
            }
        }
        Assert.Equal([3], ClusterView.Decode(draining.Encode()).Draining);
        Assert.Same(draining, Apply(draining, ControllerCommand.DecommissionNode(3))); // already draining
        Assert.Same(draining, Apply(draining, ControllerCommand.DecommissionNode(9))); // no such node

        Assert.Empty(Apply(draining, ControllerCommand.RecommissionNode(3)).Draining);
        var removed = Apply(draining, ControllerCommand.RemoveNode(3));
        Assert.Empty(removed.Draining);
        Assert.Contains(3, (IReadOnlySet<int>)removed.Removed);

        // The last node that takes replicas does not drain.
        var lastOne = Apply(Apply(draining, ControllerCommand.DecommissionNode(1)), ControllerCommand.DecommissionNode(2));
        Assert.Equal([1, 2, 3], lastOne.Draining.Order());
        Assert.NotNull(lastOne.DecommissionProblem(4, Voters));
        Assert.Same(lastOne, Apply(lastOne, ControllerCommand.DecommissionNode(4)));
    }

    [Fact]
    public void ARemovedNodeLeavesBrokersAndPlacementAndItsIdIsNeverGivenOutAgain()
    {
        var view = Formed()
            .Apply(ControllerCommand.RegisterBroker(new BrokerInfo(3, "b3", 9092, "b3", 33145, "", 1, 1)), Voters)
            .Apply(ControllerCommand.JoinNode(new JoinRequest(0, "n4", 33145, Guid.NewGuid())), Voters)
            .Apply(ControllerCommand.RemoveNode(3), Voters);
        Assert.Equal([1, 2, 4], view.NodeIds(Voters).Order());
        Assert.Null(view.Broker(3));
        Assert.Equal([1, 2], view.PlacementNodes(Voters)); // node 4 joined but has not registered yet
        Assert.DoesNotContain(3, Create(view, Topic("after", 12)).Topics["after"].Replicas.Select(r => r[0]));
        // It cannot register again, nor be joined as, and a newcomer gets an id after it.
        Assert.Same(view, view.Apply(ControllerCommand.RegisterBroker(new BrokerInfo(3, "b3", 9092, "b3", 33145, "", 1, 2)), Voters));
        Assert.Same(view, view.Apply(ControllerCommand.JoinNode(new JoinRequest(3, "n3", 33145, Guid.NewGuid())), Voters));
        var joined = view.Apply(ControllerCommand.JoinNode(new JoinRequest(0, "n5", 33145, Guid.NewGuid())), Voters);
        Assert.Equal([1, 2, 4, 5], joined.NodeIds(Voters).Order());
        // Removing an unknown node, or the last one, changes nothing.
        Assert.Same(view, view.Apply(ControllerCommand.RemoveNode(9), Voters));
        var lone = ClusterView.Empty.Apply(ControllerCommand.CreateCluster("c0ffee00-0000-4000-8000-000000000002"), [1]);
        Assert.Same(lone, lone.Apply(ControllerCommand.RemoveNode(1), [1]));
    }

    [Fact]
    public void ProducerIdBlocksOfDifferentNodesNeverOverlap()
    {
        var view = Formed();
        var blocks = new List<(long First, int Size)>();
        foreach (var (node, size) in new[] { (1, 1000), (2, 1000), (1, 500), (3, 7), (2, 1000) })
        {
            view = view.Apply(ControllerCommand.ReserveProducerIds(node, size), Voters);
            blocks.Add((view.ProducerIdBlocks[node], size));
        }
        var ids = blocks.SelectMany(b => Enumerable.Range(0, b.Size).Select(i => b.First + i)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids.Count, view.NextProducerId);
    }

    [Fact]
    public void ACommandOfAnotherVersionOrDamagedIsRefusedNotMisread()
    {
        var bytes = ControllerCommand.ReserveProducerIds(1, 10).Encode();
        var future = (byte[])bytes.Clone();
        future[1] = 9; // a version this node does not read
        Assert.Throws<Rpc.RpcFormatException>(() => ControllerCommand.Decode(future));
        Assert.Throws<Rpc.RpcFormatException>(() => ControllerCommand.Decode(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Equal(ControllerCommand.ReserveProducerIds(1, 10), ControllerCommand.Decode(bytes));
    }

    [Fact]
    public void ReplicasGoOnDistinctNodesWithLeadersAndReplicasSpreadEvenly()
    {
        var view = Enumerable.Range(0, 12).Aggregate(Formed(), (v, i) => Create(v, Topic($"r{i}", 1 + i % 5) with { ReplicationFactor = 3 }));
        view = Create(view, Topic("two", 5) with { ReplicationFactor = 2 });
        var replicas = view.Topics.Values.SelectMany(t => t.Replicas).ToList();
        Assert.All(replicas, r => Assert.Equal(r.Length, r.Distinct().Count()));
        Assert.All(view.Topics.Values.Where(t => t.Name != "two").SelectMany(t => t.Replicas), r => Assert.Equal(Voters, r.Order()));
        Assert.All(view.Topics["two"].Replicas, r => Assert.Equal(2, r.Length));
        var led = replicas.GroupBy(r => r[0]).Select(g => g.Count()).ToList();
        Assert.True(led.Max() - led.Min() <= 1, $"preferred leaders per node: {string.Join(',', led)}");
        var held = replicas.SelectMany(r => r).GroupBy(n => n).Select(g => g.Count()).ToList();
        Assert.True(held.Max() - held.Min() <= 1, $"replicas per node: {string.Join(',', held)}");
        Assert.True(view.Topics["two"].IsReplicated(0));
        Assert.False(Create(view, Topic("one", 1)).Topics["one"].IsReplicated(0));
    }

    [Fact]
    public void ALeaderReportIsKeptForReplicasInALaterEpochOfTheSameTopicOrAsTheSameLeadersNewIsrAndSurvivesASnapshot()
    {
        var topic = Topic("replicated", 2) with { ReplicationFactor = 3 };
        var view = Create(Formed(), topic);
        PartitionLeader Report(int partition, int node, int epoch, Guid? id = null, int[]? isr = null) => new("replicated", id ?? topic.Id, partition, node, epoch, isr ?? [node]);
        ClusterView Apply(ClusterView v, params PartitionLeader[] reports) => v.Apply(ControllerCommand.Decode(ControllerCommand.ReportLeaders(reports).Encode()), Voters);
        var placed = view.Topics["replicated"];
        Assert.Equal((0, -1), view.LeaderOf(placed, 0)); // none elected yet

        view = Apply(view, Report(0, 2, 3), Report(1, 1, 1));
        Assert.Equal((2, 3), view.LeaderOf(placed, 0));
        Assert.Equal((1, 1), view.LeaderOf(placed, 1));
        var same = Apply(view, Report(0, 3, 2), Report(0, 3, 3), Report(1, 4, 9), Report(1, 3, 9, Guid.NewGuid()), Report(5, 1, 9));
        Assert.Same(view, same); // an older or equal epoch, no replica there, another incarnation, no such partition
        view = Apply(view, Report(0, 1, 4, isr: [1, 2, 3]));
        Assert.Equal((1, 4), view.LeaderOf(placed, 0));
        Assert.Equal([1, 2, 3], view.InSyncOf(placed, 0));
        Assert.Same(view, Apply(view, Report(0, 2, 4, isr: [2]), Report(0, 1, 4, isr: [1, 4]))); // another node in the same epoch; a non-replica in sync
        view = Apply(view, Report(0, 1, 4, isr: [1, 3])); // the same leader's in-sync replicas shrank
        Assert.Equal((1, 4), view.LeaderOf(placed, 0));
        Assert.Equal([1, 3], view.InSyncOf(placed, 0));
        Assert.Equal(placed.Replicas[1], Create(Formed(), topic).InSyncOf(placed, 1)); // every replica until a leader reports

        var back = ClusterView.Decode(view.Encode());
        Assert.Equal((1, 4), back.LeaderOf(back.Topics["replicated"], 0));
        Assert.Equal([1, 3], back.InSyncOf(back.Topics["replicated"], 0));
        Assert.Equal((1, 1), back.LeaderOf(back.Topics["replicated"], 1));
        var deleted = view.Apply(ControllerCommand.ForTopic(ControllerCommandType.DeleteTopic, placed), Voters);
        Assert.Empty(deleted.Leaders);
    }
}
