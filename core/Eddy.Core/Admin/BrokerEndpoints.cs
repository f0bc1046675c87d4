using System.Globalization;
using System.Text.Json;
using Eddy.Cluster;
using Eddy.Http;

namespace Eddy.Admin;

/// <summary>GET /v1/brokers and /v1/brokers/{id}: the cluster's members as the controller records them (id, Kafka
/// and RPC addresses, rack, shards), whether each is up (the controller's leader heard from it lately), the roles
/// each runs (the cluster property roles, and the admin API, which always runs), and the version each runs (asked of
/// it).</summary>
internal static class BrokerEndpoints
{
    public static void Map(HttpRoutes routes, AdminContext context)
    {
        routes.MapGet("/v1/brokers", context.WithNode(async (node, _, _) =>
        {
            var controller = node.Broker.Controller;
            var brokers = controller.View.Brokers.OrderBy(b => b.NodeId).ToList();
            var alive = AliveAsync(controller);
            var versions = await VersionsAsync(controller, brokers.Select(b => b.NodeId));
            var up = await alive;
            return AdminJson.Ok(w =>
            {
                w.WriteStartArray();
                foreach (var broker in brokers)
                {
                    Write(w, broker, controller, versions[broker.NodeId], up);
                }
                w.WriteEndArray();
            });
        }));
        routes.MapGet("/v1/brokers/{id}", context.WithNode(async (node, _, values) =>
        {
            if (!int.TryParse(values["id"], NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            {
                return AdminJson.Error(400, $"'{values["id"]}' is not a node id");
            }
            var controller = node.Broker.Controller;
            var broker = controller.View.Broker(id);
            if (broker is null)
            {
                return AdminJson.Error(404, $"node {id} is not a member of this cluster");
            }
            var alive = AliveAsync(controller);
            var version = await controller.VersionOfAsync(id, AskLeaderTimeout);
            var up = await alive;
            return AdminJson.Ok(w => Write(w, broker, controller, version, up));
        }));
    }

    /// <summary>How long the answers wait for the controller's leader to say who is up.</summary>
    private static readonly TimeSpan AskLeaderTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The members the controller's leader heard from within its alive window, or null when no leader
    /// answered (then whether a node is up is not known, and not said).</summary>
    public static async Task<HashSet<int>?> AliveAsync(Controller controller)
    {
        var silence = await controller.SilenceAsync(AskLeaderTimeout);
        long window = (long)controller.AliveWindow.TotalMilliseconds;
        return silence?.Where(s => s.Value >= 0 && s.Value <= window).Select(s => s.Key).ToHashSet();
    }

    /// <summary>Each node's versions, asked of it (all at once); null for one that did not answer.</summary>
    public static async Task<Dictionary<int, (int Logical, string Software)?>> VersionsAsync(Controller controller, IEnumerable<int> nodes)
    {
        var ids = nodes.ToList();
        var answers = await Task.WhenAll(ids.Select(id => controller.VersionOfAsync(id, AskLeaderTimeout)));
        return ids.Zip(answers).ToDictionary(a => a.First, a => a.Second);
    }

    private static void Write(Utf8JsonWriter w, BrokerInfo broker, Controller controller, (int Logical, string Software)? version, HashSet<int>? alive)
    {
        w.WriteStartObject();
        w.WriteNumber("node_id", broker.NodeId);
        w.WriteString("kafka_address", $"{broker.KafkaHost}:{broker.KafkaPort}");
        w.WriteString("rpc_address", $"{broker.RpcHost}:{broker.RpcPort}");
        if (broker.Rack.Length > 0)
        {
            w.WriteString("rack", broker.Rack);
        }
        w.WriteNumber("num_shards", broker.Shards);
        w.WriteString("membership_status", controller.View.Draining.Contains(broker.NodeId) ? "draining" : "active");
        if (alive is not null)
        {
            w.WriteBoolean("is_alive", alive.Contains(broker.NodeId));
        }
        w.WriteStartArray("roles");
        foreach (string role in NodeRoles.Names(NodeRoles.Of(controller.View.Config, broker.NodeId)))
        {
            w.WriteStringValue(role);
        }
        w.WriteStringValue("admin");
        w.WriteEndArray();
        if (version is var (logical, software))
        {
            // Asked of the node itself: left out when it does not answer.
            w.WriteString("version", software);
            w.WriteNumber("logical_version", logical);
        }
        w.WriteEndObject();
    }
}
