using Eddy.Raft;

namespace Eddy.Raft.Tests;

/// <summary>
/// What a driver may send before the next Ready (<see cref="RaftGroup.TakeMessagesToSendNow"/>): heartbeats, their
/// answers and a leader's appends, while a Ready is still being written, so that a slow disk delays no heartbeat into
/// an election; never an acknowledgement of entries or a vote, which must follow their Ready's fsync, and nothing
/// while the term or vote is not yet durable.
/// </summary>
public class MessagesBetweenReadiesTests
{
    private static readonly Func<Message, bool> Everything = _ => true;

    [Fact]
    public void ALeadersHeartbeatsAndAppendsLeaveWhileItsReadyIsStillBeingWritten()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        var group = c[leader];
        Assert.Equal(ProposeResult.Accepted, group.Propose(new byte[] { 1, 2, 3 }));
        var inFlight = group.GetReady(); // being written: not advanced
        Assert.NotEmpty(inFlight.Entries);
        Assert.Equal(ProposeResult.Accepted, group.Propose(new byte[] { 4 }));
        for (int i = 0; i < 3; i++)
        {
            group.Tick();
        }
        var now = new List<Message>();
        group.TakeMessagesToSendNow(Everything, now);
        Assert.Contains(now, m => m.Type == MessageType.Heartbeat);
        Assert.Contains(now, m => m.Type == MessageType.Append && m.Entries is { Length: > 0 });
        Assert.All(now, m => Assert.True(m.Type is MessageType.Heartbeat or MessageType.Append, $"{m.Type} left early"));

        // The driver may keep any of them back, and those keep their order for the next Ready.
        var kept = new List<Message>();
        group.TakeMessagesToSendNow(_ => false, kept);
        Assert.Empty(kept);
    }

    [Fact]
    public void AFollowersAcknowledgementWaitsForItsReadyButItsHeartbeatAnswerDoesNot()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        int follower = c.Nodes.First(n => n != leader);
        var leading = c[leader];
        Assert.Equal(ProposeResult.Accepted, leading.Propose(new byte[] { 7 }));
        for (int i = 0; i < 3; i++)
        {
            leading.Tick();
        }
        var sent = new List<Message>();
        leading.TakeMessagesToSendNow(Everything, sent);
        var toFollower = sent.Where(m => m.To == follower).ToList();
        Assert.Contains(toFollower, m => m.Type == MessageType.Append);
        Assert.Contains(toFollower, m => m.Type == MessageType.Heartbeat);

        var following = c[follower];
        foreach (var message in toFollower)
        {
            following.Step(message);
        }
        var answers = new List<Message>();
        following.TakeMessagesToSendNow(Everything, answers);
        Assert.Contains(answers, m => m.Type == MessageType.HeartbeatResponse);
        Assert.DoesNotContain(answers, m => m.Type == MessageType.AppendResponse);
        var ready = following.GetReady();
        Assert.Contains(ready.Messages, m => m.Type == MessageType.AppendResponse && !m.Reject);
        Assert.NotEmpty(ready.Entries);
    }

    [Fact]
    public void NothingLeavesEarlyWhileANewTermOrVoteIsNotDurable()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        int follower = c.Nodes.First(n => n != leader);
        var following = c[follower];
        long term = following.Term;
        // A message of a later term moves the follower's term: its hard state must be saved before it answers anything.
        following.Step(new Message { Type = MessageType.Heartbeat, From = leader, To = follower, Term = term + 1 });
        Assert.Equal(term + 1, following.Term);
        var now = new List<Message>();
        following.TakeMessagesToSendNow(Everything, now);
        Assert.Empty(now);
        var ready = following.GetReady();
        Assert.True(ready.HasHardState);
        Assert.Contains(ready.Messages, m => m.Type == MessageType.HeartbeatResponse);
    }
}
