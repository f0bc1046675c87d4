using Eddy.Kafka.Groups;
using Eddy.Storage;

using static Eddy.Groups.Tests.Entries;

namespace Eddy.Groups.Tests;

/// <summary>Groups and offsets come back from `__consumer_offsets` after a restart; deleted ones stay deleted.</summary>
public sealed class PersistenceTests
{
    [Fact]
    public async Task OffsetsAndGroupsComeBackAfterARestart()
    {
        await using var scope = await GroupScope.StartAsync();
        // A simple-commit group, a stable two-member group with offsets, a deleted group, a deleted offset.
        await scope.CommitAsync("simple", -1, "", E("t1", 0, 100, 5, "m"), E("t2", 3, 300, -1, null));
        var (ja, jb) = await GroupStateMachineTests.TwoStableMembers(scope);
        await scope.CommitAsync("g", 1, ja.MemberId, E("t1", 0, 11, -1, null), E("t1", 1, 12, -1, null));
        await scope.CommitAsync("gone", -1, "", E("t1", 0, 1, -1, null));
        Assert.Equal(0, await scope.Run(() => scope.Coordinator.DeleteGroupAsync("gone")));
        await scope.Run(() => scope.Coordinator.DeleteOffsetsAsync("simple", [new TopicPartition("t2", 3)]));
        var before = await scope.DescribeAsync("g");

        await scope.RestartAsync();

        var simple = await scope.Run(() => scope.Coordinator.FetchOffsets("simple", null));
        var (tp, offset) = Assert.Single(simple.Offsets);
        Assert.Equal((new TopicPartition("t1", 0), 100L, 5, "m"), (tp, offset!.Value.Offset, offset.Value.LeaderEpoch, offset.Value.Metadata));
        Assert.Equal([11L, 12L], (await scope.Run(() => scope.Coordinator.FetchOffsets("g", null))).Offsets.Select(o => o.Offset!.Value.Offset));
        Assert.Empty((await scope.Run(() => scope.Coordinator.FetchOffsets("gone", null))).Offsets);
        Assert.Equal(new[] { "g", "simple" }, (await scope.Run(() => scope.Coordinator.ListGroups())).Select(g => g.GroupId).Order());

        // The stable group is back as it was: same generation, members, leader and assignments.
        var after = await scope.DescribeAsync("g");
        Assert.Equal(("Stable", "consumer", "range"), (after.GroupState, after.ProtocolType, after.ProtocolData));
        Assert.Equal(before.Members.Select(m => (m.MemberId, m.ClientId, m.ClientHost, Convert.ToHexString(m.MemberAssignment), Convert.ToHexString(m.MemberMetadata))),
            after.Members.Select(m => (m.MemberId, m.ClientId, m.ClientHost, Convert.ToHexString(m.MemberAssignment), Convert.ToHexString(m.MemberMetadata))));
        // Its members carry on with their generation, without rejoining.
        Assert.Equal(0, await scope.HeartbeatAsync("g", 1, ja.MemberId));
        Assert.Equal(0, await scope.HeartbeatAsync("g", 1, jb.MemberId));
        Assert.Equal([0xB], (await scope.SyncAsync("g", 1, jb.MemberId)).Assignment);
        Assert.Equal([0], await scope.CommitAsync("g", 1, ja.MemberId, E("t1", 0, 13, -1, null)));
        // A member that goes quiet is dropped when its session ends, as before the restart.
        await scope.AdvanceAsync(TimeSpan.FromSeconds(6));
        Assert.Equal(0, await scope.HeartbeatAsync("g", 1, ja.MemberId));
        await scope.AdvanceAsync(TimeSpan.FromSeconds(6));
        Assert.Equal(27, await scope.HeartbeatAsync("g", 1, ja.MemberId));
        Assert.Equal(25, await scope.HeartbeatAsync("g", 1, jb.MemberId));
    }

    [Fact]
    public async Task AGroupThatBecameEmptyComesBackEmptyWithItsGeneration()
    {
        await using var scope = await GroupScope.StartAsync();
        var (ja, jb) = await GroupStateMachineTests.TwoStableMembers(scope);
        await scope.Run(() => scope.Coordinator.Leave("g", [new(ja.MemberId, null), new(jb.MemberId, null)]));
        // The empty generation is written in the background; a restart waits for appends in flight.
        await scope.RestartAsync();
        var described = await scope.DescribeAsync("g");
        Assert.Equal(("Empty", "consumer"), (described.GroupState, described.ProtocolType));
        // The next generation continues from the stored one.
        var again = scope.JoinAsync("g", version: 3);
        await scope.AdvanceAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(3, (await again.Soon()).GenerationId);
    }

    [Fact]
    public async Task CompactionKeepsTheSameStateAndDeletedGroupsStayDeleted()
    {
        await using var scope = await GroupScope.StartAsync(new() { OffsetsPartitionCount = 1, MinSessionTimeout = TimeSpan.FromSeconds(1) });
        for (int i = 0; i < 20; i++)
        {
            await scope.CommitAsync("busy", -1, "", E("t1", 0, i, -1, null), E("t1", 1, 1000 + i, -1, null));
        }
        await scope.CommitAsync("gone", -1, "", E("t1", 0, 5, -1, null));
        await scope.Run(() => scope.Coordinator.DeleteGroupAsync("gone"));
        var partition = scope.Partitions[0];
        long sizeBefore = partition.SizeBytes;
        await scope.Run(async () =>
        {
            await partition.RollAsync(); // compaction rewrites closed segments only
            await partition.HousekeepAsync();
            return true;
        });
        Assert.True(partition.SizeBytes < sizeBefore, "compaction kept every record: the keys are not what compaction sees as the same");
        await scope.RestartAsync();
        Assert.Equal([19L, 1019L], (await scope.Run(() => scope.Coordinator.FetchOffsets("busy", null))).Offsets.Select(o => o.Offset!.Value.Offset));
        Assert.Equal(["busy"], (await scope.Run(() => scope.Coordinator.ListGroups())).Select(g => g.GroupId));
    }

    [Fact]
    public async Task RequestsAreRefusedOnceStoppedAndWaitersAreReleased()
    {
        await using var scope = await GroupScope.StartAsync();
        var join = scope.JoinAsync("g", version: 3);
        Assert.True(await join.StillWaiting());
        await scope.CloseAsync();
        Assert.Equal(16, (await join.Soon()).ErrorCode);
        Assert.Equal(16, (await scope.JoinAsync("g", version: 3)).ErrorCode);
        Assert.Equal(16, (await scope.Run(() => scope.Coordinator.FetchOffsets("g", null))).ErrorCode);
    }
}
