using Eddy.Config;
using Eddy.Http;

namespace Eddy.Admin;

/// <summary>GET /v1/node_config: this node's id, version and listeners as they are bound, and every node setting
/// (docs/configuration.md) as this node read it.</summary>
internal static class NodeConfigEndpoint
{
    public static void Map(HttpRoutes routes, AdminContext context) => routes.MapGet("/v1/node_config", context.WithNode((node, _, _) =>
    {
        return new ValueTask<HttpResponse>(AdminJson.Ok(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("node_id", node.Broker.Controller.NodeId);
            w.WriteString("version", context.Version);
            w.WriteString("cluster_id", node.Broker.Controller.ClusterId);
            w.WriteNumber("kafka_port", node.Server.Port);
            w.WriteNumber("rpc_port", node.Broker.Controller.RpcPort);
            w.WriteNumber("admin_port", context.AdminPort);
            w.WriteStartObject("properties");
            foreach (var property in NodeProperties.All)
            {
                w.WriteString(property.Name, property.Show(context.Config));
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }));
    }));
}
