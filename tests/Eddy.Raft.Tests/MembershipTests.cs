using Eddy.Raft;

namespace Eddy.Raft.Tests;

public class MembershipTests
{
    private static int CommitNoOp(TestCluster c)
    {
        int leader = c.ElectLeader();
        c.Tick(3);
        return leader;
    }

    [Fact]
    public void LearnerReceivesTheLogButNeitherVotesNorCountsForCommit()
    {
        var c = new TestCluster(3, voters: [1, 2]);
        int leader = CommitNoOp(c);
        Assert.True(c[3].Membership.Voters.Length == 2);
        Assert.Equal(ProposeResult.Accepted, c[leader].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 3)));
        c.Tick(3);
        c.Propose(leader, "to-learner");
        c.Tick(3);
        Assert.Equal(c[leader].Committed, c[3].Committed);
        Assert.True(c[3].Membership.IsLearner(3));
        // Without the other voter, leader + learner are no majority.
        int other = leader == 1 ? 2 : 1;
        c.Isolate(other);
        long committed = c[leader].Committed;
        c.Propose(leader, "stuck");
        c.Settle();
        Assert.Equal(committed, c[leader].Committed);
        // A learner never campaigns.
        c.Isolate(3);
        c.Tick(100);
        Assert.Equal(Role.Follower, c[3].Role);
    }

    [Fact]
    public void PromotedLearnerVotesAndCounts()
    {
        var c = new TestCluster(3, voters: [1, 2]);
        int leader = CommitNoOp(c);
        c[leader].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 3));
        c.Tick(3);
        Assert.Equal(ProposeResult.Accepted, c[leader].ProposeConfigChange(new ConfigChange(ConfigChangeKind.PromoteLearner, 3)));
        c.Tick(3);
        Assert.All(c.Nodes, n => Assert.Equal(3, c[n].Membership.Voters.Length));
        int other = leader == 1 ? 2 : 1;
        c.Isolate(other);
        c.Propose(leader, "with-3");
        c.Tick(3);
        Assert.Equal(c[leader].LastIndex, c[leader].Committed);
    }

    [Fact]
    public void OnlyOneConfigChangeAtATimeAndOnlyAfterCommittingInTerm()
    {
        var c = new TestCluster(5, voters: [1, 2, 3]);
        int leader = c.ElectLeader();
        // Before the no-op commits, no change is allowed.
        var fresh = new TestCluster(3);
        int l2 = fresh.Nodes.First();
        fresh[l2].Campaign();
        Assert.NotEqual(ProposeResult.Accepted, fresh[l2].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 4)));

        c.Tick(3);
        var others = c.Nodes.Where(n => n != leader).ToArray();
        // Cut the followers so the first change cannot commit, then try a second.
        foreach (int n in others) c.Cut(leader, n);
        Assert.Equal(ProposeResult.Accepted, c[leader].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 4)));
        Assert.Equal(ProposeResult.ConfigChangePending, c[leader].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 5)));
        // Single-server: the change took effect on append, before commit.
        Assert.True(c[leader].Membership.IsLearner(4));
    }

    [Fact]
    public void RemovedVoterNoLongerCountsAndCannotDisruptTheGroup()
    {
        var c = new TestCluster(3);
        int leader = CommitNoOp(c);
        int victim = c.Nodes.First(n => n != leader);
        Assert.Equal(ProposeResult.Accepted, c[leader].ProposeConfigChange(new ConfigChange(ConfigChangeKind.Remove, victim)));
        c.Tick(3);
        Assert.Equal(2, c[leader].Membership.Voters.Length);
        long term = c[leader].Term;
        // The removed node is cut off from the new configuration's traffic; it may time out, but
        // followers inside their leader lease ignore it.
        c.Tick(100);
        Assert.Equal(term, c[leader].Term);
        Assert.Equal(Role.Leader, c[leader].Role);
    }

    [Fact]
    public void LeaderRefusesToRemoveItself()
    {
        var c = new TestCluster(3);
        int leader = CommitNoOp(c);
        Assert.Equal(ProposeResult.InvalidConfigChange, c[leader].ProposeConfigChange(new ConfigChange(ConfigChangeKind.Remove, leader)));
    }

    [Fact]
    public void ConfigEntryIsRolledBackWhenItsLogSuffixIsTruncated()
    {
        // Follower 2 holds an uncommitted change from term 1; the term-2 leader's log replaces it.
        var members = new Membership([1, 2, 3]);
        var cc = new ConfigChange(ConfigChangeKind.Remove, 3).Encode();
        var (follower, _) = TestCluster.Solo(new RaftOptions { NodeId = 2 }, members, new HardState(1, 0, 1), null,
            new Entry(1, 1, EntryType.Normal, default), new Entry(1, 2, EntryType.ConfigChange, cc));
        Assert.Equal(2, follower.Membership.Voters.Length);
        follower.Step(new Message
        {
            Type = MessageType.Append, From = 1, To = 2, Term = 2, Index = 1, LogTerm = 1, Commit = 1,
            Entries = [new Entry(2, 2, EntryType.Normal, default)],
        });
        Assert.Equal(3, follower.Membership.Voters.Length);
    }
}
