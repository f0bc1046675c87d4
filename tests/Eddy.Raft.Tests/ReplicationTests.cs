using Eddy.Raft;

namespace Eddy.Raft.Tests;

public class ReplicationTests
{
    private static Entry E(long term, long index) => new(term, index, EntryType.Normal, new byte[] { (byte)term });

    [Fact]
    public void ProposalsCommitAndApplyEverywhereInOrder()
    {
        var c = new TestCluster(5);
        int leader = c.ElectLeader();
        for (int i = 0; i < 100; i++) c.Propose(leader, "cmd" + i);
        c.Tick(3);
        foreach (int n in c.Nodes)
        {
            var texts = c.Applied(n).Where(e => e.Data.Length > 0).Select(e => System.Text.Encoding.UTF8.GetString(e.Data.Span)).ToArray();
            Assert.Equal(Enumerable.Range(0, 100).Select(i => "cmd" + i), texts);
        }
    }

    [Fact]
    public void AMinorityCannotCommit()
    {
        var c = new TestCluster(5);
        int leader = c.ElectLeader();
        var others = c.Nodes.Where(n => n != leader).ToArray();
        foreach (int n in others.Skip(1)) c.Isolate(n);
        long before = c[leader].Committed;
        c.Propose(leader, "lonely");
        c.Tick(5);
        Assert.Equal(before, c[leader].Committed);
    }

    [Fact]
    public void ConflictingFollowerTailIsReplacedWithFewRoundTrips()
    {
        // Follower 2 holds 50 entries of term 2 that the leader (term 3 log) never had.
        var leaderLog = new List<Entry> { E(1, 1) };
        for (long i = 2; i <= 10; i++) leaderLog.Add(E(3, i));
        var followerLog = new List<Entry> { E(1, 1) };
        for (long i = 2; i <= 51; i++) followerLog.Add(E(2, i));
        var members = new Membership([1, 2]);
        var leader = TestCluster.Solo(new RaftOptions { NodeId = 1 }, members, new HardState(3, 0, 1), null, [.. leaderLog]);
        var follower = TestCluster.Solo(new RaftOptions { NodeId = 2 }, members, new HardState(3, 0, 1), null, [.. followerLog]);
        leader.Group.Campaign();
        int rejections = TestCluster.Exchange(leader, follower, rounds: 20);
        Assert.Equal(Role.Leader, leader.Group.Role);
        Assert.Equal(leader.Group.LastIndex, follower.Group.LastIndex);
        Assert.Equal(leader.Group.Log.Term(10), follower.Group.Log.Term(10));
        // One term of conflict costs one rejection (plus the first probe), not one per entry.
        Assert.InRange(rejections, 1, 3);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LeaderCommitsOnlyEntriesOfItsOwnTermByCounting(bool plantBug)
    {
        // Node 1 holds 2@2 from an earlier term and wins term 3; follower 2 acknowledges index 2
        // before the term-3 no-op at index 3: a majority holds 2@2, yet it must not commit.
        var log = new List<Entry> { E(1, 1), E(2, 2) };
        var options = new RaftOptions { NodeId = 1, PreVote = false, Bug = plantBug ? PlantedBug.CommitOldTerm : PlantedBug.None };
        var solo = TestCluster.Solo(options, new Membership([1, 2, 3]), new HardState(2, 0, 1), null, [.. log]);
        var g = solo.Group;
        g.Campaign();
        g.Step(new Message { Type = MessageType.VoteResponse, From = 2, To = 1, Term = 3 });
        Assert.Equal(Role.Leader, g.Role);
        TestCluster.ReadyOf(solo);
        g.Advance();
        g.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = 3, Index = 2 });
        Assert.Equal(plantBug ? 2 : 1, g.Committed);
        g.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = 3, Index = 3 });
        Assert.Equal(3, g.Committed);
    }

    [Fact]
    public void LeaderCountsItselfOnlyOnceItsEntriesAreDurable()
    {
        var solo = TestCluster.Solo(new RaftOptions { NodeId = 1, PreVote = false }, new Membership([1, 2, 3]));
        var g = solo.Group;
        g.Campaign();
        g.Step(new Message { Type = MessageType.VoteResponse, From = 2, To = 1, Term = 1 });
        var ready = TestCluster.ReadyOf(solo);
        Assert.Single(ready.Entries);
        // Follower acks before the leader's own write completes: 1 of 3 durable, no commit.
        g.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = 1, Index = 1 });
        Assert.Equal(0, g.Committed);
        g.Advance();
        Assert.Equal(1, g.Committed);
    }

    [Fact]
    public void HardStateIsInTheSameReadyAsTheVoteItPromises()
    {
        var g = new RaftGroup(new RaftOptions { NodeId = 1 }, new Membership([1, 2, 3]), new MemoryLogStorage());
        g.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 4 });
        var ready = g.GetReady();
        Assert.True(ready.HasHardState);
        Assert.Equal(new HardState(4, 2, 0), ready.HardState);
        Assert.Contains(ready.Messages, m => m.Type == MessageType.VoteResponse && !m.Reject);
    }

    [Fact]
    public void ForgetVoteBugDropsTheVoteFromTheHardState()
    {
        var g = new RaftGroup(new RaftOptions { NodeId = 1, Bug = PlantedBug.ForgetVote }, new Membership([1, 2, 3]), new MemoryLogStorage());
        g.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 4 });
        Assert.Equal(0, g.GetReady().HardState.Vote);
    }
}
