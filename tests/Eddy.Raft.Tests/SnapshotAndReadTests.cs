using Eddy.Raft;

namespace Eddy.Raft.Tests;

public class SnapshotAndReadTests
{
    [Fact]
    public void LaggingFollowerIsCaughtUpWithASnapshotAfterCompaction()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        int lagger = c.Nodes.First(n => n != leader);
        c.Isolate(lagger);
        for (int i = 0; i < 50; i++) c.Propose(leader, "e" + i);
        c.Tick(2);
        var image = c[leader].Compact(c[leader].Applied, [42]);
        Assert.NotNull(image);
        Assert.Equal(c[leader].Applied, c[leader].Log.SnapshotIndex);
        c.Heal();
        c.Tick(15);
        Assert.Equal(image.Index, c[lagger].Log.SnapshotIndex);
        Assert.Equal(c[leader].Committed, c[lagger].Committed);
        c.Propose(leader, "after");
        c.Tick(3);
        Assert.Equal("after", System.Text.Encoding.UTF8.GetString(c.Applied(lagger)[^1].Data.Span));
    }

    [Fact]
    public void SnapshotCarriesTheMembershipInForceAtItsIndex()
    {
        var c = new TestCluster(3, voters: [1, 2]);
        int leader = c.ElectLeader();
        c.Tick(3);
        c[leader].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 3));
        c.Tick(3);
        var image = c[leader].Compact(c[leader].Applied, []);
        Assert.True(image!.Membership.IsLearner(3));
    }

    [Fact]
    public void RestartFromSnapshotAndEntriesRestoresTheLog()
    {
        var members = new Membership([1]);
        var snap = new SnapshotImage(10, 2, members, [1]);
        var entries = new[] { new Entry(3, 11, EntryType.Normal, new byte[] { 1 }), new Entry(3, 12, EntryType.Normal, default) };
        var (g, _) = TestCluster.Solo(new RaftOptions { NodeId = 1 }, members, new HardState(3, 1, 11), snap, entries);
        Assert.Equal(12, g.LastIndex);
        Assert.Equal(11, g.Committed);
        Assert.Equal(10, g.Applied);
        var ready = g.GetReady();
        Assert.Equal(11, Assert.Single(ready.CommittedEntries).Index);
        Assert.Empty(ready.Entries);
    }

    [Fact]
    public void ReadIndexAnswersOnlyAfterAQuorumConfirmsLeadership()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        c.Tick(3);
        foreach (int n in c.Nodes.Where(n => n != leader)) c.Isolate(n);
        Assert.Equal(ProposeResult.Accepted, c[leader].ReadIndex(7));
        c.Settle();
        Assert.DoesNotContain(c.ReadStates, r => r.RequestId == 7);
        c.Heal();
        Assert.Equal(ProposeResult.Accepted, c[leader].ReadIndex(8));
        c.Settle();
        var read = Assert.Single(c.ReadStates, r => r.RequestId == 8);
        Assert.Equal(c[leader].Committed, read.Index);
    }

    [Fact]
    public void ReadIndexWaitsForTheFirstCommitOfTheTerm()
    {
        var solo = TestCluster.Solo(new RaftOptions { NodeId = 1, PreVote = false }, new Membership([1, 2, 3]));
        var g = solo.Group;
        g.Campaign();
        g.Step(new Message { Type = MessageType.VoteResponse, From = 2, To = 1, Term = 1 });
        Assert.Equal(ProposeResult.Accepted, g.ReadIndex(1));
        TestCluster.ReadyOf(solo);
        g.Advance();
        // A heartbeat round is answered, but the no-op is not committed: no answer yet.
        for (int i = 0; i < 2; i++) g.Tick();
        var beat = g.GetReady().Messages.First(m => m.Type == MessageType.Heartbeat);
        g.Advance();
        g.Step(new Message { Type = MessageType.HeartbeatResponse, From = 2, To = 1, Term = 1, Sequence = beat.Sequence });
        Assert.Empty(g.GetReady().ReadStates);
        g.Advance();
        g.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = 1, Index = 1 });
        var hb = g.GetReady().Messages.First(m => m.Type == MessageType.Heartbeat);
        g.Advance();
        g.Step(new Message { Type = MessageType.HeartbeatResponse, From = 2, To = 1, Term = 1, Sequence = hb.Sequence });
        Assert.Equal(new ReadState(1, 1), Assert.Single(g.GetReady().ReadStates));
    }

    [Fact]
    public void FollowersRefuseReadIndex()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        Assert.Equal(ProposeResult.NotLeader, c[c.Nodes.First(n => n != leader)].ReadIndex(1));
    }
}
