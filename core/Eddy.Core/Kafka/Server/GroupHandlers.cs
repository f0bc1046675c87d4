using Eddy.Kafka.Groups;

namespace Eddy.Kafka.Server;

/// <summary>The classic consumer group APIs, for the node's <see cref="ApiHandlerTable"/>.</summary>
public static class GroupHandlers
{
    /// <summary>One handler per group API, all routing through <paramref name="router"/>.</summary>
    public static IKafkaApiHandler[] Create(GroupRouter router) =>
    [
        new FindCoordinatorHandler(router),
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
