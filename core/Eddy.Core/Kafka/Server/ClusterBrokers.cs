using Eddy.Cluster;

namespace Eddy.Kafka.Server;

/// <summary>
/// The brokers Metadata and DescribeCluster list: every member the controller has registered, with this node as it
/// serves now (it may answer before its own registration is applied), and the controller id: the controller group's
/// leader, or -1 while there is none (clients then ask again).
/// </summary>
internal static class ClusterBrokers
{
    public readonly record struct Listed(int NodeId, string Host, int Port, string? Rack);

    public static List<Listed> All(Controller controller, KafkaServer server)
    {
        var brokers = new List<Listed>();
        bool self = false;
        foreach (var broker in controller.View.Brokers)
        {
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

    public static int ControllerId(Controller controller) => controller.LeaderId is int leader and > 0 ? leader : -1;

    private static string? RackOf(string rack) => rack.Length == 0 ? null : rack;
}
