using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Groups.Tests;

/// <summary>Static members (group.instance.id, KIP-345): a restart is not a rebalance, and the old id is fenced.</summary>
public sealed class StaticMembershipTests
{
    private static async Task<(JoinGroupResponse A, JoinGroupResponse B)> TwoStaticMembers(GroupScope scope, short version = 5,
        int rebalanceMs = 30_000, params (string Name, byte[] Metadata)[] protocols)
    {
        // Static members skip MEMBER_ID_REQUIRED even at v4+.
        var a = scope.JoinAsync("g", instanceId: "inst-a", version: version, rebalanceMs: rebalanceMs, protocols: protocols);
        var b = scope.JoinAsync("g", instanceId: "inst-b", version: version, rebalanceMs: rebalanceMs, protocols: protocols);
        await scope.AdvanceAsync(TimeSpan.FromSeconds(6));
        var (ja, jb) = (await a.Soon(), await b.Soon());
        Assert.Equal((0, 0), ((int)ja.ErrorCode, (int)jb.ErrorCode));
        Assert.StartsWith("inst-a-", ja.MemberId);
        var syncB = scope.SyncAsync("g", 1, jb.MemberId, "inst-b");
        await scope.SyncAsync("g", 1, ja.MemberId, "inst-a", (ja.MemberId, [0xA]), (jb.MemberId, [0xB]));
        Assert.Equal([0xB], (await syncB.Soon()).Assignment);
        return (ja, jb);
    }

    [Fact]
    public async Task ARestartedFollowerRejoinsWithoutARebalanceAndItsOldIdIsFenced()
    {
        await using var scope = await GroupScope.StartAsync();
        var (ja, jb) = await TwoStaticMembers(scope);
        // b restarts: it has lost its member id but keeps its instance id.
        var back = await scope.JoinAsync("g", "", "inst-b").Soon();
        Assert.Equal(0, back.ErrorCode);
        Assert.NotEqual(jb.MemberId, back.MemberId);
        Assert.Equal((1, ja.MemberId), (back.GenerationId, back.Leader));
        Assert.Empty(back.Members);
        Assert.Equal("Stable", (await scope.DescribeAsync("g")).GroupState);
        // Its assignment is still there for the new id; the old id is fenced everywhere.
        Assert.Equal([0xB], (await scope.SyncAsync("g", 1, back.MemberId, "inst-b")).Assignment);
        Assert.Equal(82, await scope.HeartbeatAsync("g", 1, jb.MemberId, "inst-b"));
        Assert.Equal(82, (await scope.SyncAsync("g", 1, jb.MemberId, "inst-b")).ErrorCode);
        Assert.Equal(82, (await scope.JoinAsync("g", jb.MemberId, "inst-b")).ErrorCode);
        Assert.Equal(82, (await scope.Run(() => scope.Coordinator.CommitAsync("g", 1, jb.MemberId, "inst-b", [new("t", 0, 1, -1, null)])))[0]);
        // The other member noticed nothing.
        Assert.Equal(0, await scope.HeartbeatAsync("g", 1, ja.MemberId, "inst-a"));
        Assert.Equal(0, await scope.HeartbeatAsync("g", 1, back.MemberId, "inst-b"));
    }

    [Fact]
    public async Task ARestartedLeaderLearnsTheMembersButSkipsTheAssignmentFromV9()
    {
        await using var scope = await GroupScope.StartAsync();
        var (ja, jb) = await TwoStaticMembers(scope, version: 9);
        var back = await scope.JoinAsync("g", "", "inst-a", version: 9).Soon();
        Assert.Equal(0, back.ErrorCode);
        Assert.Equal((1, back.MemberId), (back.GenerationId, back.Leader));
        Assert.True(back.SkipAssignment);
        Assert.Equal(new[] { back.MemberId, jb.MemberId }.Order(), back.Members.Select(m => m.MemberId).Order());
        Assert.Equal("Stable", (await scope.DescribeAsync("g")).GroupState);
        Assert.Equal([0xA], (await scope.SyncAsync("g", 1, back.MemberId, "inst-a")).Assignment);
        Assert.Equal(82, await scope.HeartbeatAsync("g", 1, ja.MemberId, "inst-a"));
    }

    [Fact]
    public async Task AStaticMemberWhoseProtocolsChangeTheGroupsChoiceTriggersARebalance()
    {
        await using var scope = await GroupScope.StartAsync();
        var (ja, _) = await TwoStaticMembers(scope, protocols: [("range", []), ("roundrobin", [])]);
        Assert.Equal("range", ja.ProtocolName);
        var back = scope.JoinAsync("g", "", "inst-b", protocols: [("roundrobin", [])]);
        Assert.True(await back.StillWaiting());
        Assert.Equal("PreparingRebalance", (await scope.DescribeAsync("g")).GroupState);
        Assert.Equal(27, await scope.HeartbeatAsync("g", 1, ja.MemberId, "inst-a"));
        var a2 = scope.JoinAsync("g", ja.MemberId, "inst-a", protocols: [("range", []), ("roundrobin", [])]);
        var (ra, rb) = (await a2.Soon(), await back.Soon());
        Assert.Equal((2, 2), (ra.GenerationId, rb.GenerationId));
        Assert.Equal("roundrobin", ra.ProtocolName); // the only protocol both still support
    }

    [Fact]
    public async Task AStaticMemberStaysThroughARebalanceUntilItsSessionEnds()
    {
        await using var scope = await GroupScope.StartAsync();
        var (ja, jb) = await TwoStaticMembers(scope, rebalanceMs: 5_000);
        // a rejoins to rebalance; b (static, silent) is not dropped at the end of the join phase.
        var a2 = scope.JoinAsync("g", ja.MemberId, "inst-a", rebalanceMs: 5_000);
        await scope.AdvanceAsync(TimeSpan.FromSeconds(5));
        var ra = await a2.Soon();
        Assert.Equal(2, ra.GenerationId);
        Assert.Contains(jb.MemberId, ra.Members.Select(m => m.MemberId));
        // Its session (10 s, renewed when the rebalance completed) then ends, and it is removed.
        Assert.Equal([1], (await scope.SyncAsync("g", 2, ja.MemberId, "inst-a", (ja.MemberId, [1]))).Assignment);
        await scope.AdvanceAsync(TimeSpan.FromSeconds(6));
        Assert.Equal(0, await scope.HeartbeatAsync("g", 2, ja.MemberId, "inst-a"));
        await scope.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(25, await scope.HeartbeatAsync("g", 2, jb.MemberId, "inst-b"));
        Assert.Equal(27, await scope.HeartbeatAsync("g", 2, ja.MemberId, "inst-a"));
    }

    [Fact]
    public async Task LeaveGroupByInstanceIdRemovesAStaticMember()
    {
        await using var scope = await GroupScope.StartAsync();
        var (ja, jb) = await TwoStaticMembers(scope);
        var (error, results) = await scope.Run(() => scope.Coordinator.Leave("g", [new("", "inst-b")]));
        Assert.Equal((0, 0), ((int)error, (int)Assert.Single(results).ErrorCode));
        Assert.Equal(25, await scope.HeartbeatAsync("g", 1, jb.MemberId, "inst-b"));
        Assert.Equal(27, await scope.HeartbeatAsync("g", 1, ja.MemberId, "inst-a"));
    }
}
