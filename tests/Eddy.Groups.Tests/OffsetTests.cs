using Eddy.Kafka.Groups;

using static Eddy.Groups.Tests.Entries;

namespace Eddy.Groups.Tests;

/// <summary>OffsetCommit, OffsetFetch, OffsetDelete and DeleteGroups on one coordinator.</summary>
public sealed class OffsetTests
{
    private static readonly TopicPartition T0 = new("t1", 0), T1 = new("t1", 1), U0 = new("t2", 0);

    private static Task<(short ErrorCode, List<(TopicPartition Partition, CommittedOffset? Offset)> Offsets)> Fetch(GroupScope scope, string group,
        params TopicPartition[] partitions)
        => scope.Run(() => scope.Coordinator.FetchOffsets(group, partitions.Length == 0 ? null : partitions));

    [Fact]
    public async Task SimpleCommitsCreateTheGroupAndFetchReturnsThem()
    {
        await using var scope = await GroupScope.StartAsync();
        Assert.Equal([0, 0], await scope.CommitAsync("simple", -1, "", E("t1", 0, 42, 3, "meta"), E("t1", 1, 7, -1, null)));
        var (error, offsets) = await Fetch(scope, "simple", T0, T1, U0);
        Assert.Equal(0, error);
        Assert.Equal((42L, 3, "meta"), (offsets[0].Offset!.Value.Offset, offsets[0].Offset!.Value.LeaderEpoch, offsets[0].Offset!.Value.Metadata));
        Assert.Equal((7L, ""), (offsets[1].Offset!.Value.Offset, offsets[1].Offset!.Value.Metadata));
        Assert.Null(offsets[2].Offset); // never committed: -1, no error
        // A null partition list means everything committed, in topic and partition order.
        Assert.Equal([T0, T1], (await Fetch(scope, "simple")).Offsets.Select(o => o.Partition));
        // A newer commit replaces the older one.
        await scope.CommitAsync("simple", -1, "", E("t1", 0, 50, -1, "m2"));
        Assert.Equal(50, (await Fetch(scope, "simple", T0)).Offsets[0].Offset!.Value.Offset);
        Assert.Equal(("Empty", ""), ((await scope.DescribeAsync("simple")).GroupState, (await scope.DescribeAsync("simple")).ProtocolType));
        // An unknown group has no offsets: not an error.
        var unknown = await Fetch(scope, "nobody", T0);
        Assert.Equal(0, unknown.ErrorCode);
        Assert.Null(Assert.Single(unknown.Offsets).Offset);
    }

    [Fact]
    public async Task CommitsAreCheckedAgainstTheGroup()
    {
        await using var scope = await GroupScope.StartAsync();
        // A generation for a group this coordinator never had.
        Assert.Equal([22], await scope.CommitAsync("g", 3, "someone", E("t1", 0, 1, -1, null)));
        var (ja, _) = await GroupStateMachineTests.TwoStableMembers(scope);
        Assert.Equal([0], await scope.CommitAsync("g", 1, ja.MemberId, E("t1", 0, 10, -1, null)));
        Assert.Equal([22], await scope.CommitAsync("g", 2, ja.MemberId, E("t1", 0, 11, -1, null)));
        Assert.Equal([25], await scope.CommitAsync("g", 1, "stranger", E("t1", 0, 11, -1, null)));
        // Simple commits are for groups without members.
        Assert.Equal([25], await scope.CommitAsync("g", -1, "", E("t1", 0, 11, -1, null)));
        Assert.Equal(10, (await Fetch(scope, "g", T0)).Offsets[0].Offset!.Value.Offset);
    }

    [Fact]
    public async Task PartitionErrorsAreAnsweredPerPartition()
    {
        await using var scope = await GroupScope.StartAsync(new()
        {
            OffsetsPartitionCount = 2,
            MaxOffsetMetadataBytes = 8,
            TopicPartitionExists = (topic, partition) => topic == "t1" && partition < 2,
        });
        var errors = await scope.CommitAsync("g", -1, "", E("t1", 0, 1, -1, "12345678"), E("t1", 1, 1, -1, "123456789"), E("t1", 2, 1, -1, null),
            new("nope", 0, 1, -1, null));
        Assert.Equal([0, 12, 3, 3], errors);
        Assert.Equal([T0], (await Fetch(scope, "g")).Offsets.Select(o => o.Partition));
    }

    [Fact]
    public async Task OffsetDeleteSparesTopicsTheMembersConsume()
    {
        await using var scope = await GroupScope.StartAsync();
        await scope.CommitAsync("idle", -1, "", E("t1", 0, 1, -1, null), E("t2", 0, 2, -1, null));
        var (error, errors) = await scope.Run(() => scope.Coordinator.DeleteOffsetsAsync("idle", [T0, T1]));
        Assert.Equal(0, error);
        Assert.Equal([0, 0], errors); // a partition without an offset is simply not there
        Assert.Equal([U0], (await Fetch(scope, "idle")).Offsets.Select(o => o.Partition));

        // Members of "g" subscribe to t1 (GroupScope's default subscription): t1's offsets stay, t2's go.
        var (ja, _) = await GroupStateMachineTests.TwoStableMembers(scope);
        await scope.CommitAsync("g", 1, ja.MemberId, E("t1", 0, 1, -1, null), E("t2", 0, 2, -1, null));
        (error, errors) = await scope.Run(() => scope.Coordinator.DeleteOffsetsAsync("g", [T0, U0]));
        Assert.Equal(0, error);
        Assert.Equal([86, 0], errors);
        Assert.Equal([T0], (await Fetch(scope, "g")).Offsets.Select(o => o.Partition));

        (error, _) = await scope.Run(() => scope.Coordinator.DeleteOffsetsAsync("nobody", [T0]));
        Assert.Equal(69, error);
    }

    [Fact]
    public async Task OnlyEmptyGroupsCanBeDeletedAndTheirOffsetsGoWithThem()
    {
        await using var scope = await GroupScope.StartAsync();
        var (ja, jb) = await GroupStateMachineTests.TwoStableMembers(scope);
        await scope.CommitAsync("g", 1, ja.MemberId, E("t1", 0, 9, -1, null));
        Assert.Equal(68, await scope.Run(() => scope.Coordinator.DeleteGroupAsync("g")));
        Assert.Equal(69, await scope.Run(() => scope.Coordinator.DeleteGroupAsync("nobody")));
        await scope.Run(() => scope.Coordinator.Leave("g", [new(ja.MemberId, null), new(jb.MemberId, null)]));
        Assert.Equal("Empty", (await scope.DescribeAsync("g")).GroupState);
        Assert.Equal(0, await scope.Run(() => scope.Coordinator.DeleteGroupAsync("g")));
        Assert.Equal(69, (await scope.DescribeAsync("g")).ErrorCode);
        Assert.Null((await Fetch(scope, "g", T0)).Offsets[0].Offset);
        Assert.DoesNotContain("g", (await scope.Run(() => scope.Coordinator.ListGroups())).Select(l => l.GroupId));
    }
}
