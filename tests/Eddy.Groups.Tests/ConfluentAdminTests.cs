using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Eddy.Broker.Tests;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Groups.Tests;

/// <summary>
/// Confluent.Kafka 2.16 (its bundled librdkafka) against the group APIs: the admin client lists, describes and
/// deletes groups and reads and deletes their offsets; a consumer commits and reads back offsets without subscribing
/// (which needs no Produce or Fetch).
/// </summary>
public sealed class ConfluentAdminTests(GroupBrokerFixture node) : IClassFixture<GroupBrokerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static void AssertBundledLibrdkafka()
    {
        // A system librdkafka (Debian's) must not be what answers here.
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "librdkafka.so")));
        Assert.StartsWith("2.16", Library.VersionString);
    }

    private IAdminClient Admin() => new AdminClientBuilder(new AdminClientConfig
    {
        BootstrapServers = node.Bootstrap, SocketTimeoutMs = 10_000, ReconnectBackoffMaxMs = 1000,
    }).Build();

    /// <summary>A stable one-member consumer group made over a raw socket, with offset 42 committed on orders-0.</summary>
    private async Task<(RawClient Client, JoinGroupResponse Joined)> StableGroupAsync(string group)
    {
        var client = new RawClient(node.Server.Port);
        var joined = await client.CallAsync<JoinGroupResponse>(5, 1, GroupProtocolTests.Join(group, "", "admin-test"));
        await client.CallAsync<SyncGroupResponse>(3, 2, new SyncGroupRequest
        {
            GroupId = group, GenerationId = joined.GenerationId, MemberId = joined.MemberId, GroupInstanceId = "admin-test",
            Assignments = [new() { MemberId = joined.MemberId, Assignment = GroupProtocolTests.Assignment("orders", 0, 1) }],
        });
        var commit = await client.CallAsync<OffsetCommitResponse>(7, 3, new OffsetCommitRequest
        {
            GroupId = group, GenerationIdOrMemberEpoch = joined.GenerationId, MemberId = joined.MemberId, GroupInstanceId = "admin-test",
            Topics = [new() { Name = "orders", Partitions = [new() { PartitionIndex = 0, CommittedOffset = 42, CommittedMetadata = "md" }] }],
        });
        Assert.Equal(0, commit.Topics[0].Partitions[0].ErrorCode);
        return (client, joined);
    }

    [Fact]
    public async Task AdminListsDescribesAndReadsOffsetsOfAGroup()
    {
        AssertBundledLibrdkafka();
        string group = node.GroupOnShard("admin", 1);
        var (client, joined) = await StableGroupAsync(group);
        using (client)
        {
            using var admin = Admin();
            var listed = await admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { RequestTimeout = Timeout });
            var listing = Assert.Single(listed.Valid, g => g.GroupId == group);
            Assert.Equal(ConsumerGroupState.Stable, listing.State);
            Assert.False(listing.IsSimpleConsumerGroup);

            var described = await admin.DescribeConsumerGroupsAsync([group], new DescribeConsumerGroupsOptions { RequestTimeout = Timeout });
            var description = Assert.Single(described.ConsumerGroupDescriptions);
            Assert.Equal((ErrorCode.NoError, ConsumerGroupState.Stable, "range"), (description.Error.Code, description.State, description.PartitionAssignor));
            Assert.Equal(GroupBrokerFixture.NodeId, description.Coordinator.Id);
            var member = Assert.Single(description.Members);
            Assert.Equal((joined.MemberId, "admin-test"), (member.ConsumerId, member.GroupInstanceId));
            Assert.Equal([0, 1], member.Assignment.TopicPartitions.Where(tp => tp.Topic == "orders").Select(tp => tp.Partition.Value));

            var offsets = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, [new TopicPartition("orders", 0)])],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = Timeout });
            var committed = Assert.Single(Assert.Single(offsets).Partitions);
            Assert.Equal((42L, ErrorCode.NoError), (committed.Offset.Value, committed.Error.Code));

            // Not while it has members.
            var refused = await Assert.ThrowsAsync<DeleteGroupsException>(() => admin.DeleteGroupsAsync([group], new DeleteGroupsOptions { RequestTimeout = Timeout }));
            Assert.Equal(ErrorCode.NonEmptyGroup, Assert.Single(refused.Results).Error.Code);
            var left = await client.CallAsync<LeaveGroupResponse>(4, 4, new LeaveGroupRequest { GroupId = group, Members = [new() { MemberId = joined.MemberId, GroupInstanceId = "admin-test" }] });
            Assert.Equal(0, left.Members[0].ErrorCode);
            await admin.DeleteConsumerGroupOffsetsAsync(group, [new TopicPartition("orders", 0)], new DeleteConsumerGroupOffsetsOptions { RequestTimeout = Timeout });
            await admin.DeleteGroupsAsync([group], new DeleteGroupsOptions { RequestTimeout = Timeout });
            var after = await admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { RequestTimeout = Timeout });
            Assert.DoesNotContain(group, after.Valid.Select(g => g.GroupId));
        }
    }

    [Fact]
    public void AConsumerCommitsAndReadsBackOffsetsWithoutSubscribing()
    {
        AssertBundledLibrdkafka();
        string group = node.GroupOnShard("consumer-commit", 0);
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = node.Bootstrap, GroupId = group, EnableAutoCommit = false, SocketTimeoutMs = 10_000,
        }).Build();
        consumer.Commit([new TopicPartitionOffset("events", 0, 123), new TopicPartitionOffset("events", 1, 456)]);
        var committed = consumer.Committed([new TopicPartition("events", 0), new TopicPartition("events", 1), new TopicPartition("events", 2)], Timeout);
        Assert.Equal([123L, 456L, Offset.Unset.Value], committed.Select(c => c.Offset.Value));
    }
}
