using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Broker.Tests;

namespace Eddy.Groups.Tests;

/// <summary>The group APIs over real sockets, at their oldest and newest versions, against a two-shard node.</summary>
public sealed class GroupProtocolTests(GroupBrokerFixture node) : IClassFixture<GroupBrokerFixture>
{
    private int _correlation;

    private Task<T> Call<T>(RawClient client, short version, IKafkaMessage request) where T : IKafkaMessage
        => client.CallAsync<T>(version, Interlocked.Increment(ref _correlation), request);

    internal static byte[] Assignment(string topic, params int[] partitions)
    {
        using var w = new KafkaWriter();
        w.WriteInt16(0);
        new ConsumerProtocolAssignment { AssignedPartitions = [new() { Topic = topic, Partitions = [.. partitions] }], UserData = null }.Write(w, 0);
        return w.ToArray();
    }

    internal static JoinGroupRequest Join(string group, string memberId = "", string? instanceId = null) => new()
    {
        GroupId = group,
        MemberId = memberId,
        GroupInstanceId = instanceId,
        SessionTimeoutMs = 10_000,
        RebalanceTimeoutMs = 10_000,
        ProtocolType = "consumer",
        Protocols = [new() { Name = "range", Metadata = GroupScope.Subscription("orders") }],
    };

    [Fact]
    public async Task ApiVersionsAdvertisesTheGroupApis()
    {
        using var client = new RawClient(node.Server.Port);
        var response = await Call<ApiVersionsResponse>(client, 3, new ApiVersionsRequest { ClientSoftwareName = "eddy-tests", ClientSoftwareVersion = "1.0" });
        var advertised = response.ApiKeys.Select(k => ((int)k.ApiKey, (int)k.MinVersion, (int)k.MaxVersion)).ToList();
        (int, int, int)[] groupApis = [(8, 0, 9), (9, 0, 9), (10, 0, 6), (11, 0, 9), (12, 0, 4), (13, 0, 5), (14, 0, 5), (15, 0, 6), (16, 0, 5), (42, 0, 2), (47, 0, 0)];
        Assert.All(groupApis, api => Assert.Contains(api, advertised));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public async Task FindCoordinatorNamesThisNodeForGroups(short version)
    {
        using var client = new RawClient(node.Server.Port);
        foreach (int shard in new[] { 0, 1 })
        {
            var response = await Call<FindCoordinatorResponse>(client, version, new FindCoordinatorRequest { Key = node.GroupOnShard("find", shard) });
            Assert.Equal((0, GroupBrokerFixture.NodeId, "127.0.0.1", node.Server.Port), ((int)response.ErrorCode, response.NodeId, response.Host, response.Port));
        }
        if (version >= 1)
        {
            var txn = await Call<FindCoordinatorResponse>(client, version, new FindCoordinatorRequest { Key = "txn", KeyType = 1 });
            Assert.Equal((15, -1), ((int)txn.ErrorCode, txn.NodeId));
            Assert.NotNull(txn.ErrorMessage);
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public async Task FindCoordinatorAnswersEachKeyOfABatch(short version)
    {
        using var client = new RawClient(node.Server.Port);
        var groups = await Call<FindCoordinatorResponse>(client, version, new FindCoordinatorRequest { CoordinatorKeys = ["a", "b", "c"] });
        Assert.Equal(["a", "b", "c"], groups.Coordinators.Select(c => c.Key));
        Assert.All(groups.Coordinators, c => Assert.Equal((0, GroupBrokerFixture.NodeId, node.Server.Port, (string?)null), ((int)c.ErrorCode, c.NodeId, c.Port, c.ErrorMessage)));
        var txns = await Call<FindCoordinatorResponse>(client, version, new FindCoordinatorRequest { KeyType = 1, CoordinatorKeys = ["t1"] });
        Assert.Equal(15, Assert.Single(txns.Coordinators).ErrorCode);
    }

    [Fact]
    public async Task AGroupLivesItsWholeLifeAtTheNewestVersions()
    {
        string group = node.GroupOnShard("newest", 1);
        using var client = new RawClient(node.Server.Port);
        var first = await Call<JoinGroupResponse>(client, 9, Join(group));
        Assert.Equal(79, first.ErrorCode);
        var joined = await Call<JoinGroupResponse>(client, 9, Join(group, first.MemberId));
        Assert.Equal((0, 1, first.MemberId, "consumer", "range"), ((int)joined.ErrorCode, joined.GenerationId, joined.Leader, joined.ProtocolType, joined.ProtocolName));
        var assignment = Assignment("orders", 0, 1);
        var synced = await Call<SyncGroupResponse>(client, 5, new SyncGroupRequest
        {
            GroupId = group, GenerationId = 1, MemberId = joined.MemberId, ProtocolType = "consumer", ProtocolName = "range",
            Assignments = [new() { MemberId = joined.MemberId, Assignment = assignment }],
        });
        Assert.Equal((0, "consumer", "range"), ((int)synced.ErrorCode, synced.ProtocolType, synced.ProtocolName));
        Assert.Equal(assignment, synced.Assignment);
        Assert.Equal(0, (await Call<HeartbeatResponse>(client, 4, new HeartbeatRequest { GroupId = group, GenerationId = 1, MemberId = joined.MemberId })).ErrorCode);

        var commit = await Call<OffsetCommitResponse>(client, 9, new OffsetCommitRequest
        {
            GroupId = group, GenerationIdOrMemberEpoch = 1, MemberId = joined.MemberId,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 17, CommittedLeaderEpoch = 2, CommittedMetadata = "m" }] }],
        });
        Assert.Equal(0, Assert.Single(Assert.Single(commit.Topics).Partitions).ErrorCode);

        // v8+: several groups in one request, one of them unknown.
        var fetched = await Call<OffsetFetchResponse>(client, 9, new OffsetFetchRequest
        {
            Groups =
            [
                new() { GroupId = group, Topics = [new() { Name = "orders", PartitionIndexes = [0, 1] }] },
                new() { GroupId = "no-such-group", Topics = null },
            ],
        });
        var mine = fetched.Groups[0];
        Assert.Equal([(0, 17L, 2, "m"), (1, -1L, -1, "")],
            Assert.Single(mine.Topics).Partitions.Select(p => (p.PartitionIndex, p.CommittedOffset, p.CommittedLeaderEpoch, p.Metadata)));
        Assert.Equal(("no-such-group", 0), (fetched.Groups[1].GroupId, (int)fetched.Groups[1].ErrorCode));
        Assert.Empty(fetched.Groups[1].Topics);

        var described = Assert.Single((await Call<DescribeGroupsResponse>(client, 5, new DescribeGroupsRequest { Groups = [group], IncludeAuthorizedOperations = true })).Groups);
        Assert.Equal(("Stable", "consumer", "range"), (described.GroupState, described.ProtocolType, described.ProtocolData));
        Assert.Equal(assignment, Assert.Single(described.Members).MemberAssignment);
        Assert.NotEqual(int.MinValue, described.AuthorizedOperations);

        var listed = await Call<ListGroupsResponse>(client, 5, new ListGroupsRequest { StatesFilter = ["stable"], TypesFilter = ["Classic"] });
        var entry = Assert.Single(listed.Groups, g => g.GroupId == group);
        Assert.Equal(("consumer", "Stable", "classic"), (entry.ProtocolType, entry.GroupState, entry.GroupType));
        Assert.DoesNotContain(group, (await Call<ListGroupsResponse>(client, 5, new ListGroupsRequest { TypesFilter = ["consumer"] })).Groups.Select(g => g.GroupId));
        Assert.DoesNotContain(group, (await Call<ListGroupsResponse>(client, 4, new ListGroupsRequest { StatesFilter = ["Empty"] })).Groups.Select(g => g.GroupId));

        // A member's own topic cannot lose its offsets while the group consumes it.
        var refused = await Call<OffsetDeleteResponse>(client, 0, new OffsetDeleteRequest { GroupId = group, Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0 }] }] });
        Assert.Equal((0, 86), ((int)refused.ErrorCode, (int)refused.Topics[0].Partitions[0].ErrorCode));
        Assert.Equal(68, Assert.Single((await Call<DeleteGroupsResponse>(client, 2, new DeleteGroupsRequest { GroupsNames = [group] })).Results).ErrorCode);

        var left = await Call<LeaveGroupResponse>(client, 5, new LeaveGroupRequest { GroupId = group, Members = [new() { MemberId = joined.MemberId, Reason = "done" }] });
        Assert.Equal((0, joined.MemberId, 0), ((int)left.ErrorCode, Assert.Single(left.Members).MemberId, (int)left.Members[0].ErrorCode));
        var deleted = await Call<OffsetDeleteResponse>(client, 0, new OffsetDeleteRequest { GroupId = group, Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0 }] }] });
        Assert.Equal((0, 0), ((int)deleted.ErrorCode, (int)deleted.Topics[0].Partitions[0].ErrorCode));
        Assert.Equal(0, Assert.Single((await Call<DeleteGroupsResponse>(client, 2, new DeleteGroupsRequest { GroupsNames = [group] })).Results).ErrorCode);
        var gone = Assert.Single((await Call<DescribeGroupsResponse>(client, 6, new DescribeGroupsRequest { Groups = [group] })).Groups);
        Assert.Equal(69, gone.ErrorCode);
        Assert.NotNull(gone.ErrorMessage);
    }

    [Fact]
    public async Task AGroupWorksAtTheOldestVersions()
    {
        string group = node.GroupOnShard("oldest", 0);
        using var client = new RawClient(node.Server.Port);
        // v0: no MEMBER_ID_REQUIRED round trip, one timeout for session and rebalance.
        var joined = await Call<JoinGroupResponse>(client, 0, Join(group));
        Assert.Equal((0, 1, "range"), ((int)joined.ErrorCode, joined.GenerationId, joined.ProtocolName));
        var synced = await Call<SyncGroupResponse>(client, 0, new SyncGroupRequest
        {
            GroupId = group, GenerationId = 1, MemberId = joined.MemberId, Assignments = [new() { MemberId = joined.MemberId, Assignment = [9] }],
        });
        Assert.Equal([9], synced.Assignment);
        Assert.Equal(0, (await Call<HeartbeatResponse>(client, 0, new HeartbeatRequest { GroupId = group, GenerationId = 1, MemberId = joined.MemberId })).ErrorCode);
        var commit = await Call<OffsetCommitResponse>(client, 2, new OffsetCommitRequest
        {
            GroupId = group, GenerationIdOrMemberEpoch = 1, MemberId = joined.MemberId, RetentionTimeMs = 60_000,
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 3, CommittedOffset = 5 }] }],
        });
        Assert.Equal(0, commit.Topics[0].Partitions[0].ErrorCode);
        // v0 carries no member: a simple commit, refused while the group has members.
        var simple = await Call<OffsetCommitResponse>(client, 0, new OffsetCommitRequest
        {
            GroupId = group, Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 3, CommittedOffset = 6 }] }],
        });
        Assert.Equal(25, simple.Topics[0].Partitions[0].ErrorCode);
        foreach (short version in new short[] { 0, 1 })
        {
            var fetched = await Call<OffsetFetchResponse>(client, version, new OffsetFetchRequest
            {
                GroupId = group, Topics = [new() { Name = "orders", PartitionIndexes = [3] }],
            });
            Assert.Equal((3, 5L, 0), (fetched.Topics[0].Partitions[0].PartitionIndex, fetched.Topics[0].Partitions[0].CommittedOffset, (int)fetched.Topics[0].Partitions[0].ErrorCode));
        }
        // v2+: a null topic list is every committed partition.
        var all = await Call<OffsetFetchResponse>(client, 2, new OffsetFetchRequest { GroupId = group, Topics = null });
        Assert.Equal([("orders", 3, 5L)], all.Topics.SelectMany(t => t.Partitions.Select(p => (t.Name, p.PartitionIndex, p.CommittedOffset))));
        var described = (await Call<DescribeGroupsResponse>(client, 0, new DescribeGroupsRequest { Groups = [group, "no-such-group"] })).Groups;
        Assert.Equal([(group, 0, "Stable"), ("no-such-group", 0, "Dead")], described.Select(d => (d.GroupId, (int)d.ErrorCode, d.GroupState)));
        Assert.Contains(group, (await Call<ListGroupsResponse>(client, 0, new ListGroupsRequest())).Groups.Select(g => g.GroupId));
        Assert.Equal(0, (await Call<LeaveGroupResponse>(client, 0, new LeaveGroupRequest { GroupId = group, MemberId = joined.MemberId })).ErrorCode);
        Assert.Equal(25, (await Call<LeaveGroupResponse>(client, 0, new LeaveGroupRequest { GroupId = group, MemberId = joined.MemberId })).ErrorCode);
        Assert.Equal(0, Assert.Single((await Call<DeleteGroupsResponse>(client, 0, new DeleteGroupsRequest { GroupsNames = [group] })).Results).ErrorCode);
    }

    [Fact]
    public async Task TwoMembersOnTwoConnectionsRebalance()
    {
        string group = node.GroupOnShard("pair", 0);
        using var a = new RawClient(node.Server.Port);
        using var b = new RawClient(node.Server.Port);
        var ja = Call<JoinGroupResponse>(a, 5, Join(group, "", "inst-a"));
        var jb = Call<JoinGroupResponse>(b, 5, Join(group, "", "inst-b"));
        var (ra, rb) = (await ja, await jb);
        Assert.Equal((1, 1), (ra.GenerationId, rb.GenerationId));
        var leader = ra.Leader == ra.MemberId ? (a, ra) : (b, rb);
        var follower = leader.Item2 == ra ? (b, rb) : (a, ra);
        var followerSync = Call<SyncGroupResponse>(follower.Item1, 3, new SyncGroupRequest
        {
            GroupId = group, GenerationId = 1, MemberId = follower.Item2.MemberId, GroupInstanceId = follower.Item2 == ra ? "inst-a" : "inst-b",
        });
        Assert.Equal(2, leader.Item2.Members.Count);
        await Call<SyncGroupResponse>(leader.Item1, 3, new SyncGroupRequest
        {
            GroupId = group, GenerationId = 1, MemberId = leader.Item2.MemberId, GroupInstanceId = leader.Item2 == ra ? "inst-a" : "inst-b",
            Assignments = [new() { MemberId = follower.Item2.MemberId, Assignment = [0xF] }, new() { MemberId = leader.Item2.MemberId, Assignment = [0xE] }],
        });
        Assert.Equal([0xF], (await followerSync).Assignment);
        // Wrong protocol name at SyncGroup v5 is refused.
        var wrong = await Call<SyncGroupResponse>(follower.Item1, 5, new SyncGroupRequest
        {
            GroupId = group, GenerationId = 1, MemberId = follower.Item2.MemberId, GroupInstanceId = follower.Item2 == ra ? "inst-a" : "inst-b",
            ProtocolType = "consumer", ProtocolName = "roundrobin",
        });
        Assert.Equal(23, wrong.ErrorCode);
        // LeaveGroup v3+ by instance id only (what an admin does), for both members at once.
        var left = await Call<LeaveGroupResponse>(a, 4, new LeaveGroupRequest
        {
            GroupId = group, Members = [new() { MemberId = "", GroupInstanceId = "inst-a" }, new() { MemberId = "", GroupInstanceId = "inst-b" }],
        });
        Assert.Equal([0, 0], left.Members.Select(m => (int)m.ErrorCode));
        Assert.Equal("Empty", Assert.Single((await Call<DescribeGroupsResponse>(a, 4, new DescribeGroupsRequest { Groups = [group] })).Groups).GroupState);
    }

    [Fact]
    public async Task OffsetFetchV8AsksGroupsOnBothShardsAtOnce()
    {
        string[] groups = [node.GroupOnShard("multi", 0), node.GroupOnShard("multi", 1)];
        using var client = new RawClient(node.Server.Port);
        for (int i = 0; i < groups.Length; i++)
        {
            var commit = await Call<OffsetCommitResponse>(client, 8, new OffsetCommitRequest
            {
                GroupId = groups[i], Topics = [new() { Name = "t", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 100 + i }] }],
            });
            Assert.Equal(0, commit.Topics[0].Partitions[0].ErrorCode);
        }
        var fetched = await Call<OffsetFetchResponse>(client, 8, new OffsetFetchRequest
        {
            Groups = groups.Select(g => new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = g, Topics = null }).ToList(),
        });
        Assert.Equal([(groups[0], 100L), (groups[1], 101L)], fetched.Groups.Select(g => (g.GroupId, g.Topics[0].Partitions[0].CommittedOffset)));
    }
}
