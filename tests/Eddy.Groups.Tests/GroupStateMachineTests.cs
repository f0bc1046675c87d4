using Eddy.Errors;
using static Eddy.Groups.Tests.Entries;

namespace Eddy.Groups.Tests;

/// <summary>Join, sync, heartbeat, leave and rebalances on one coordinator, with time moved by hand.</summary>
public sealed class GroupStateMachineTests
{
    private static readonly TimeSpan InitialDelay = TimeSpan.FromSeconds(3);

    /// <summary>The initial delay, once extended because a second member arrived during it.</summary>
    private static readonly TimeSpan ExtendedInitialDelay = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task OneMemberJoinsSyncsHeartbeatsAndLeaves()
    {
        await using var scope = await GroupScope.StartAsync();
        var join = await scope.JoinNewAsync("g");
        // The first rebalance of an empty group waits group.initial.rebalance.delay.ms for more members.
        Assert.True(await join.StillWaiting());
        await scope.AdvanceAsync(InitialDelay);
        var joined = await join.Soon();
        Assert.Equal((0, 1), ((int)joined.ErrorCode, joined.GenerationId));
        Assert.Equal(joined.MemberId, joined.Leader);
        Assert.Equal("range", joined.ProtocolName);
        Assert.Equal(joined.MemberId, Assert.Single(joined.Members).MemberId);
        Assert.Equal("CompletingRebalance", (await scope.DescribeAsync("g")).GroupState);

        var synced = await scope.SyncAsync("g", 1, joined.MemberId, null, (joined.MemberId, [1, 2, 3]));
        Assert.Equal((short)0, synced.ErrorCode);
        Assert.Equal([1, 2, 3], synced.Assignment);
        Assert.Equal(0, await scope.HeartbeatAsync("g", 1, joined.MemberId));
        var described = await scope.DescribeAsync("g");
        Assert.Equal(("Stable", "consumer", "range"), (described.GroupState, described.ProtocolType, described.ProtocolData));
        Assert.Equal([1, 2, 3], Assert.Single(described.Members).MemberAssignment);

        var (error, left) = await scope.Run(() => scope.Coordinator.Leave("g", [new(joined.MemberId, null)]));
        Assert.Equal(0, error);
        Assert.Equal(0, Assert.Single(left).ErrorCode);
        described = await scope.DescribeAsync("g");
        Assert.Equal("Empty", described.GroupState);
        Assert.Empty(described.Members);
        Assert.Equal(25, await scope.HeartbeatAsync("g", 2, joined.MemberId));
    }

    [Fact]
    public async Task ThreeMembersRebalanceWhenOneJoinsLate()
    {
        await using var scope = await GroupScope.StartAsync();
        var a = await scope.JoinNewAsync("g");
        var b = await scope.JoinNewAsync("g");
        await scope.AdvanceAsync(InitialDelay);
        Assert.True(await a.StillWaiting()); // b arrived during the delay, which therefore runs once more
        await scope.AdvanceAsync(InitialDelay);
        var (ja, jb) = (await a.Soon(), await b.Soon());
        Assert.Equal((1, 1), (ja.GenerationId, jb.GenerationId));
        Assert.Equal(ja.MemberId, ja.Leader);
        Assert.Equal(2, ja.Members.Count); // the leader sees everyone
        Assert.Empty(jb.Members);

        // The follower waits in SyncGroup until the leader hands in the assignment.
        var syncB = scope.SyncAsync("g", 1, jb.MemberId);
        Assert.True(await syncB.StillWaiting());
        var syncA = await scope.SyncAsync("g", 1, ja.MemberId, null, (ja.MemberId, [0xA]), (jb.MemberId, [0xB]));
        Assert.Equal([0xA], syncA.Assignment);
        Assert.Equal([0xB], (await syncB.Soon()).Assignment);

        // A third member arrives: the group rebalances, the others learn it from their heartbeats.
        var c = await scope.JoinNewAsync("g");
        Assert.Equal(27, await scope.HeartbeatAsync("g", 1, ja.MemberId));
        Assert.Equal(27, (await scope.SyncAsync("g", 1, jb.MemberId)).ErrorCode);
        var a2 = scope.JoinAsync("g", ja.MemberId);
        Assert.True(await a2.StillWaiting());
        var b2 = scope.JoinAsync("g", jb.MemberId);
        // Everyone rejoined: the join phase ends without waiting for the rebalance timeout.
        var (ra, rb, rc) = (await a2.Soon(), await b2.Soon(), await c.Soon());
        Assert.Equal([2, 2, 2], new[] { ra.GenerationId, rb.GenerationId, rc.GenerationId });
        Assert.Equal(ja.MemberId, ra.Leader);
        Assert.Equal(3, ra.Members.Count);
        Assert.Equal(22, (await scope.SyncAsync("g", 1, rc.MemberId)).ErrorCode);

        var syncs = new[] { scope.SyncAsync("g", 2, rb.MemberId), scope.SyncAsync("g", 2, rc.MemberId) };
        var leader = await scope.SyncAsync("g", 2, ra.MemberId, null, (ra.MemberId, [1]), (rb.MemberId, [2]), (rc.MemberId, [3]));
        Assert.Equal([1], leader.Assignment);
        Assert.Equal([2], (await syncs[0].Soon()).Assignment);
        Assert.Equal([3], (await syncs[1].Soon()).Assignment);
        Assert.Equal("Stable", (await scope.DescribeAsync("g")).GroupState);
        Assert.Equal(3, (await scope.DescribeAsync("g")).Members.Count);
    }

    [Fact]
    public async Task AMemberThatDoesNotRejoinIsDroppedAtTheRebalanceTimeout()
    {
        await using var scope = await GroupScope.StartAsync();
        var (ja, jb) = await TwoStableMembers(scope, rebalanceMs: 20_000);
        var c = await scope.JoinNewAsync("g", rebalanceMs: 20_000);
        var a2 = scope.JoinAsync("g", ja.MemberId, rebalanceMs: 20_000);
        // b stays alive (it heartbeats) but does not rejoin: the join phase lasts the whole rebalance timeout.
        await scope.AdvanceAsync(TimeSpan.FromSeconds(8));
        Assert.Equal(27, await scope.HeartbeatAsync("g", 1, jb.MemberId));
        await scope.AdvanceAsync(TimeSpan.FromSeconds(8));
        Assert.Equal(27, await scope.HeartbeatAsync("g", 1, jb.MemberId));
        Assert.True(await a2.StillWaiting());
        await scope.AdvanceAsync(TimeSpan.FromSeconds(4));
        var (ra, rc) = (await a2.Soon(), await c.Soon());
        Assert.Equal((2, 2), (ra.GenerationId, rc.GenerationId));
        Assert.Equal(new[] { ja.MemberId, rc.MemberId }.Order(), ra.Members.Select(m => m.MemberId).Order());
        Assert.Equal(25, await scope.HeartbeatAsync("g", 2, jb.MemberId));
    }

    [Fact]
    public async Task ASessionThatRunsOutRemovesTheMember()
    {
        await using var scope = await GroupScope.StartAsync();
        var (ja, jb) = await TwoStableMembers(scope, sessionMs: 10_000);
        await scope.AdvanceAsync(TimeSpan.FromSeconds(6));
        Assert.Equal(0, await scope.HeartbeatAsync("g", 1, ja.MemberId));
        await scope.AdvanceAsync(TimeSpan.FromSeconds(6));
        // b has been silent for 12 s of a 10 s session: gone, and the group rebalances.
        Assert.Equal("PreparingRebalance", (await scope.DescribeAsync("g")).GroupState);
        Assert.Equal(25, await scope.HeartbeatAsync("g", 1, jb.MemberId));
        Assert.Equal(27, await scope.HeartbeatAsync("g", 1, ja.MemberId));
        var rejoined = await scope.JoinAsync("g", ja.MemberId, sessionMs: 10_000).Soon();
        Assert.Equal(2, rejoined.GenerationId);
        Assert.Equal(ja.MemberId, Assert.Single(rejoined.Members).MemberId);
    }

    [Fact]
    public async Task GenerationAndMemberErrors()
    {
        await using var scope = await GroupScope.StartAsync();
        // Unknown group with a member id, and v4+ without one.
        Assert.Equal(25, (await scope.JoinAsync("nobody", "who-1")).ErrorCode);
        var first = await scope.JoinAsync("g", version: 4);
        Assert.Equal(79, first.ErrorCode);
        // v3 and below (and static members) join at once, without the extra round trip.
        Assert.Equal(-1, first.GenerationId);
        var (ja, _) = await TwoStableMembers(scope, group: "h");
        Assert.Equal(25, (await scope.JoinAsync("h", "not-a-member")).ErrorCode);
        Assert.Equal(25, await scope.HeartbeatAsync("h", 1, "not-a-member"));
        Assert.Equal(22, await scope.HeartbeatAsync("h", 7, ja.MemberId));
        Assert.Equal(22, (await scope.SyncAsync("h", 0, ja.MemberId)).ErrorCode);
        Assert.Equal(25, (await scope.SyncAsync("nobody", 1, ja.MemberId)).ErrorCode);
        Assert.Equal(24, (await scope.JoinAsync("", version: 3)).ErrorCode);
        Assert.Equal(24, await scope.HeartbeatAsync("", 1, ja.MemberId));
        Assert.Equal(26, (await scope.JoinAsync("h", sessionMs: 10)).ErrorCode);
        Assert.Equal(23, (await scope.JoinAsync("h", version: 3, protocolType: "connect")).ErrorCode);
        Assert.Equal(23, (await scope.JoinAsync("h", version: 3, protocols: [("roundrobin", [])])).ErrorCode);
        Assert.Equal(23, (await scope.JoinAsync("new", version: 3, protocolType: "")).ErrorCode);
        var (error, left) = await scope.Run(() => scope.Coordinator.Leave("h", [new("not-a-member", null), new("", "no-instance")]));
        Assert.Equal(0, error);
        Assert.Equal([25, 25], left.Select(l => (int)l.ErrorCode));
        // Commits: allowed while the group prepares a rebalance, refused while it completes one (no assignment yet).
        var late = await scope.JoinNewAsync("h");
        Assert.Equal(27, await scope.HeartbeatAsync("h", 1, ja.MemberId));
        var rejoin = scope.JoinAsync("h", ja.MemberId);
        Assert.Equal(0, (await scope.CommitAsync("h", 1, ja.MemberId, E("t", 0, 5, -1, null)))[0]);
        await scope.AdvanceAsync(TimeSpan.FromSeconds(10)); // b neither rejoins nor heartbeats: its session ends
        var regenerated = await rejoin.Soon();
        Assert.Equal(2, regenerated.GenerationId);
        Assert.Equal(27, (await scope.CommitAsync("h", 2, ja.MemberId, E("t", 0, 6, -1, null)))[0]);
        Assert.Equal(22, (await scope.CommitAsync("h", 1, ja.MemberId, E("t", 0, 6, -1, null)))[0]);
        Assert.Equal(2, (await late.Soon()).GenerationId);
    }

    [Fact]
    public async Task ProtocolVoteTakesWhatEveryMemberSupports()
    {
        await using var scope = await GroupScope.StartAsync();
        var a = scope.JoinAsync("g", version: 3, protocols: [("range", []), ("roundrobin", [])]);
        var b = scope.JoinAsync("g", version: 3, protocols: [("roundrobin", []), ("sticky", [])]);
        await scope.AdvanceAsync(ExtendedInitialDelay);
        Assert.Equal(("roundrobin", "roundrobin"), ((await a.Soon()).ProtocolName, (await b.Soon()).ProtocolName));
    }

    [Fact]
    public async Task GroupMaxSizeTurnsAwayExtraMembers()
    {
        await using var scope = await GroupScope.StartAsync(new() { OffsetsPartitionCount = 1, MaxGroupSize = 1, MinSessionTimeout = TimeSpan.FromSeconds(1) });
        var a = scope.JoinAsync("g", version: 3);
        var b = await scope.JoinAsync("g", version: 3);
        Assert.Equal(81, b.ErrorCode);
        await scope.AdvanceAsync(InitialDelay);
        Assert.Equal(0, (await a.Soon()).ErrorCode);
    }

    [Fact]
    public async Task TheInitialDelayGrowsWhileMembersArriveButNotPastTheRebalanceTimeout()
    {
        await using var scope = await GroupScope.StartAsync();
        var a = scope.JoinAsync("g", version: 3, rebalanceMs: 7_000);
        await scope.AdvanceAsync(TimeSpan.FromSeconds(2));
        var b = scope.JoinAsync("g", version: 3, rebalanceMs: 7_000);
        await scope.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.True(await a.StillWaiting()); // 4 s: b arrived during the first 3 s, so the delay runs again, to 6 s
        await scope.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.True(await a.StillWaiting());
        var c = scope.JoinAsync("g", version: 3, rebalanceMs: 7_000);
        await scope.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.True(await a.StillWaiting()); // 6 s: c arrived, but only 1 s of the 7 s rebalance timeout is left
        await scope.AdvanceAsync(TimeSpan.FromSeconds(1));
        var results = new[] { await a.Soon(), await b.Soon(), await c.Soon() };
        Assert.All(results, r => Assert.Equal(1, r.GenerationId));
        Assert.Equal(3, results[0].Members.Count);
    }

    internal static async Task<(Kafka.Protocol.Messages.JoinGroupResponse A, Kafka.Protocol.Messages.JoinGroupResponse B)> TwoStableMembers(
        GroupScope scope, string group = "g", int sessionMs = 10_000, int rebalanceMs = 30_000)
    {
        var a = await scope.JoinNewAsync(group, sessionMs: sessionMs, rebalanceMs: rebalanceMs);
        var b = await scope.JoinNewAsync(group, sessionMs: sessionMs, rebalanceMs: rebalanceMs);
        await scope.AdvanceAsync(ExtendedInitialDelay);
        var (ja, jb) = (await a.Soon(), await b.Soon());
        var syncB = scope.SyncAsync(group, ja.GenerationId, jb.MemberId);
        await scope.SyncAsync(group, ja.GenerationId, ja.MemberId, null, (ja.MemberId, [0xA]), (jb.MemberId, [0xB]));
        await syncB.Soon();
        return (ja, jb);
    }

    [Fact]
    public async Task AGroupThatCannotBeStoredFailsTheSyncInsteadOfLeavingItWaiting()
    {
        await using var scope = await GroupScope.StartAsync();
        // A protocol type longer than the stored group record's strings can hold (32,767 bytes).
        var join = scope.JoinAsync("g", instanceId: "i1", protocolType: new string('c', 40_000));
        await scope.AdvanceAsync(InitialDelay);
        var joined = await join.Soon();
        Assert.Equal(0, joined.ErrorCode);
        var synced = await scope.SyncAsync("g", joined.GenerationId, joined.MemberId, "i1", (joined.MemberId, [1])).Soon();
        Assert.Equal(Eddy.Errors.KafkaErrors.UnknownServerError, synced.ErrorCode);
    }
}
