using Eddy.Cluster;

namespace Eddy.Kafka.Server;

/// <summary>
/// The brokers Metadata and DescribeCluster list: every member the controller has registered that runs the Kafka role
/// (<see cref="NodeRoles"/>), with this node as it serves now (it may answer before its own registration is applied),
/// and the controller id: the controller group's leader, or -1 while there is none (clients then ask again). A node
/// whose Kafka role is off is not listed: clients find its partitions' leaders elsewhere once leadership moved.
/// </summary>
internal static class ClusterBrokers
{
    public readonly record struct Listed(int NodeId, string Host, int Port, string? Rack);

    public static List<Listed> All(Controller controller, KafkaServer server)
    {
        var brokers = new List<Listed>();
        bool self = false;
        var config = controller.View.Config;
        foreach (var broker in controller.View.Brokers)
        {
            if (!NodeRoles.Runs(config, broker.NodeId, NodeRole.Kafka))
            {
                self |= broker.NodeId == server.NodeId;
                continue;
            }
            if (broker.NodeId == server.NodeId)
            {
                self = true;
                brokers.Add(new Listed(broker.NodeId, server.AdvertisedHost, server.AdvertisedPort, RackOf(broker.Rack)));
            }
            else
            {
                brokers.Add(new Listed(broker.NodeId, broker.KafkaHost, broker.KafkaPort, RackOf(broker.Rack)));
            }
        }
        if (!self)
        {
            brokers.Add(new Listed(server.NodeId, server.AdvertisedHost, server.AdvertisedPort, null));
            brokers.Sort((a, b) => a.NodeId.CompareTo(b.NodeId));
        }
        return brokers;
    }

    /// <summary>The controller's leader; where its Kafka role is off, the lowest listed node (any node takes the requests
    /// Kafka sends its controller, and a client must be able to reach the one it is told of).</summary>
    public static int ControllerId(Controller controller)
    {
        if (controller.LeaderId is not (int leader and > 0))
        {
            return -1;
        }
        var config = controller.View.Config;
        return NodeRoles.Runs(config, leader, NodeRole.Kafka) ? leader
            : controller.View.Brokers.Select(b => b.NodeId).Where(id => NodeRoles.Runs(config, id, NodeRole.Kafka)).DefaultIfEmpty(-1).Min();
    }

    private static string? RackOf(string rack) => rack.Length == 0 ? null : rack;
}
