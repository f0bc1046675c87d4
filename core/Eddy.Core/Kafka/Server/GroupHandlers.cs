using Eddy.Cluster;
using Eddy.Kafka.Groups;

namespace Eddy.Kafka.Server;

/// <summary>The classic consumer group APIs, for the node's <see cref="ApiHandlerTable"/>.</summary>
public static class GroupHandlers
{
    /// <summary>One handler per group API, all routing through <paramref name="router"/>; FindCoordinator also names
    /// coordinators on other nodes (<paramref name="partitions"/>).</summary>
    public static IKafkaApiHandler[] Create(GroupRouter router, PartitionRouter partitions) =>
    [
        new FindCoordinatorHandler(router, partitions),
        new JoinGroupHandler(router),
        new SyncGroupHandler(router),
        new HeartbeatHandler(router),
        new LeaveGroupHandler(router),
        new OffsetCommitHandler(router),
        new OffsetFetchHandler(router),
        new ListGroupsHandler(router),
        new DescribeGroupsHandler(router),
        new DeleteGroupsHandler(router),
        new OffsetDeleteHandler(router),
    ];
}
