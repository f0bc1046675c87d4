using Eddy.Raft;

namespace Eddy.Raft.Tests;

public class ElectionTests
{
    [Fact]
    public void ThreeNodesElectExactlyOneLeaderAndAllFollowIt()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        c.Tick(5);
        Assert.Single(c.Nodes, n => c[n].Role == Role.Leader);
        Assert.All(c.Nodes, n => Assert.Equal(leader, c[n].Leader));
        Assert.All(c.Nodes, n => Assert.Equal(c[leader].Term, c[n].Term));
    }

    [Fact]
    public void ElectionTimeoutsAreRandomizedWithinOneToTwoTimeouts()
    {
        var timeouts = new HashSet<int>();
        for (ulong seed = 1; seed <= 50; seed++)
        {
            var g = new RaftGroup(new RaftOptions { NodeId = 1, ElectionTicks = 10, RandomSeed = seed }, new Membership([1, 2, 3]), new MemoryLogStorage());
            int ticks = 0;
            while (g.Role == Role.Follower) { g.Tick(); ticks++; }
            Assert.Equal(Role.PreCandidate, g.Role);
            Assert.InRange(ticks, 10, 19);
            timeouts.Add(ticks);
        }
        Assert.True(timeouts.Count >= 5, $"only {timeouts.Count} distinct timeouts");
    }

    [Fact]
    public void PreVoteKeepsAPartitionedNodeFromInflatingItsTerm()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        long term = c[leader].Term;
        int loner = c.Nodes.First(n => n != leader);
        c.Isolate(loner);
        c.Tick(200);
        Assert.Equal(term, c[loner].Term);
        c.Heal();
        c.Tick(20);
        // Rejoining does not depose the healthy leader.
        Assert.Equal(leader, c[loner].Leader);
        Assert.Equal(term, c[leader].Term);
    }

    [Fact]
    public void WithoutPreVoteAPartitionedNodeInflatesItsTerm()
    {
        // The control for the test above: proves that test can fail.
        var c = new TestCluster(3, options: n => new RaftOptions { NodeId = n, PreVote = false, RandomSeed = (ulong)n });
        int leader = c.ElectLeader();
        int loner = c.Nodes.First(n => n != leader);
        c.Isolate(loner);
        c.Tick(200);
        Assert.True(c[loner].Term > c[leader].Term);
    }

    [Fact]
    public void CheckQuorumMakesAnIsolatedLeaderStepDown()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        c.Isolate(leader);
        c.Tick(25);
        Assert.NotEqual(Role.Leader, c[leader].Role);
        int next = c.ElectLeader();
        Assert.NotEqual(leader, next);
    }

    [Fact]
    public void FollowersInLeaderLeaseIgnoreVoteRequests()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        int follower = c.Nodes.First(n => n != leader);
        long term = c[follower].Term;
        c[follower].Step(new Message
        {
            Type = MessageType.Vote, From = c.Nodes.First(n => n != leader && n != follower), To = follower,
            Term = term + 5, Index = 100, LogTerm = term + 4,
        });
        Assert.Equal(term, c[follower].Term);
        Assert.Equal(leader, c[follower].Leader);
    }

    [Fact]
    public void VoteIsGrantedOncePerTerm()
    {
        var g = new RaftGroup(new RaftOptions { NodeId = 1, CheckQuorum = false }, new Membership([1, 2, 3]), new MemoryLogStorage());
        g.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 5, Index = 0, LogTerm = 0 });
        g.Step(new Message { Type = MessageType.Vote, From = 3, To = 1, Term = 5, Index = 0, LogTerm = 0 });
        var ready = g.GetReady();
        Assert.Equal(2, ready.HardState.Vote);
        Assert.Collection(ready.Messages,
            m => Assert.False(m.Reject),
            m => Assert.True(m.Reject));
    }

    [Fact]
    public void VoteGoesOnlyToCandidatesWithUpToDateLogs()
    {
        var (g, _) = TestCluster.Solo(new RaftOptions { NodeId = 1, CheckQuorum = false }, new Membership([1, 2, 3]), new HardState(2, 0, 0), null,
            new Entry(1, 1, EntryType.Normal, default), new Entry(2, 2, EntryType.Normal, default));
        g.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 3, Index = 5, LogTerm = 1 });
        Assert.True(g.GetReady().Messages.Single().Reject);
        g.Advance();
        g.Step(new Message { Type = MessageType.Vote, From = 3, To = 1, Term = 3, Index = 2, LogTerm = 2 });
        Assert.False(g.GetReady().Messages.Single().Reject);
    }

    [Fact]
    public void LeadershipTransferMovesLeadershipToTheTarget()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        c.Propose(leader, "x");
        c.Settle();
        int target = c.Nodes.First(n => n != leader);
        long term = c[leader].Term;
        Assert.Equal(ProposeResult.Accepted, c[leader].TransferLeadership(target));
        Assert.Equal(ProposeResult.TransferInProgress, c[leader].Propose(new byte[] { 1 }));
        c.Settle();
        Assert.Equal(Role.Leader, c[target].Role);
        Assert.Equal(term + 1, c[target].Term);
        Assert.Equal(target, c[leader].Leader);
    }

    [Fact]
    public void TransferToANonVoterIsRefused()
    {
        var c = new TestCluster(3, voters: [1, 2]);
        int leader = c.ElectLeader();
        Assert.Equal(ProposeResult.InvalidTarget, c[leader].TransferLeadership(3));
    }

    [Fact]
    public void UnfinishedTransferIsAbandonedAfterAnElectionTimeout()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        int target = c.Nodes.First(n => n != leader);
        c.Cut(leader, target);
        c[leader].TransferLeadership(target);
        Assert.Equal(ProposeResult.TransferInProgress, c[leader].Propose(new byte[] { 1 }));
        c.Tick(11);
        Assert.Equal(Role.Leader, c[leader].Role);
        Assert.Equal(ProposeResult.Accepted, c[leader].Propose(new byte[] { 1 }));
    }

    [Fact]
    public void TransferToALaggingTargetCatchesItUpFirst()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        int target = c.Nodes.First(n => n != leader);
        c.Cut(leader, target);
        for (int i = 0; i < 5; i++) c.Propose(leader, "p" + i);
        c.Settle();
        Assert.True(c[target].LastIndex < c[leader].LastIndex);
        c.Heal();
        c[leader].TransferLeadership(target);
        c.Settle();
        Assert.Equal(Role.Leader, c[target].Role);
        Assert.Equal(7, c[target].LastIndex);
    }
}
