using Eddy.Raft;

namespace Eddy.Raft.Tests;

public class BatchingTests
{
    [Fact]
    public void HeartbeatsForAllGroupsBetweenTwoNodesTravelAsOneEnvelope()
    {
        const int groups = 100;
        var c = new TestCluster(3, groupCount: groups, options: n => new RaftOptions { NodeId = n, RandomSeed = 1 });
        // Node 1 leads every group.
        foreach (long g in c.GroupIds) c[1, g].Campaign();
        c.Settle();
        Assert.All(c.GroupIds, g => Assert.Equal(Role.Leader, c[1, g].Role));
        c.Tick(3);
        c.SentEnvelopes.Clear();
        // One heartbeat round: each follower gets one envelope carrying 100 heartbeats, and answers with one.
        c.Tick(2);
        var toTwo = c.SentEnvelopes.Where(e => e.From == 1 && e.To == 2).ToArray();
        var fromTwo = c.SentEnvelopes.Where(e => e.From == 2 && e.To == 1).ToArray();
        Assert.Single(toTwo);
        Assert.Equal(groups, toTwo[0].Heartbeats.Count);
        Assert.Single(fromTwo);
        Assert.Equal(groups, fromTwo[0].HeartbeatResponses.Count);
        Assert.Equal(4, c.SentEnvelopes.Count);
    }

    [Fact]
    public void UnpackRestoresEveryMessageWithItsGroup()
    {
        var batcher = new EnvelopeBatcher(1);
        batcher.Add(7, new Message { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 3, Commit = 9, Sequence = 4 });
        batcher.Add(8, new Message { Type = MessageType.Append, From = 1, To = 2, Term = 3, Index = 5 });
        batcher.Add(9, new Message { Type = MessageType.HeartbeatResponse, From = 1, To = 3, Term = 2, Sequence = 1 });
        var envelopes = new List<NodeEnvelope>();
        batcher.Flush(envelopes);
        Assert.Equal([2, 3], envelopes.Select(e => e.To));
        var unpacked = new List<GroupMessage>();
        envelopes[0].Unpack(unpacked);
        Assert.Equal(2, unpacked.Count);
        var hb = unpacked.Single(m => m.Group == 7).Message;
        Assert.Equal((MessageType.Heartbeat, 1, 2, 3L, 9L, 4L), (hb.Type, hb.From, hb.To, hb.Term, hb.Commit, hb.Sequence));
        Assert.Equal(5, unpacked.Single(m => m.Group == 8).Message.Index);
    }
}
