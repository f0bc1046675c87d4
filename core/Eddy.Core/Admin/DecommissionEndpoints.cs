using System.Globalization;
using Eddy.Cluster;
using Eddy.Http;

namespace Eddy.Admin;

/// <summary>
/// PUT /v1/brokers/{id}/decommission (drain the node, then remove it), PUT /v1/brokers/{id}/recommission (stop a drain)
/// and GET /v1/brokers/{id}/decommission (how far a drain got): docs/admin-api.md. The moves are the controller's
/// reassignments (<see cref="ClusterView.Draining"/>); the answers come once the controller applied the command.
/// </summary>
internal static class DecommissionEndpoints
{
    public static void Map(HttpRoutes routes, AdminContext context)
    {
        routes.MapPut("/v1/brokers/{id}/decommission", context.WithNode((node, _, values) => ChangeAsync(node, values["id"], decommission: true)));
        routes.MapPut("/v1/brokers/{id}/recommission", context.WithNode((node, _, values) => ChangeAsync(node, values["id"], decommission: false)));
        routes.MapGet("/v1/brokers/{id}/decommission", context.WithNode((node, _, values) =>
        {
            if (!TryParseId(values["id"], out int id, out var wrong))
            {
                return new ValueTask<HttpResponse>(wrong!);
            }
            var view = node.Broker.Controller.View;
            bool removed = view.Removed.Contains(id);
            if (!removed && view.Broker(id) is null)
            {
                return new ValueTask<HttpResponse>(AdminJson.Error(404, $"node {id} is not a member of this cluster"));
            }
            var (replicated, single) = view.ReplicasOn(id);
            return new ValueTask<HttpResponse>(AdminJson.Ok(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("node_id", id);
                w.WriteString("status", removed ? "removed" : view.Draining.Contains(id) ? "draining" : "active");
                w.WriteBoolean("finished", removed);
                w.WriteNumber("replicas_left", replicated);
                w.WriteNumber("single_replica_partitions", single);
                w.WriteEndObject();
            }));
        }));
    }

    private static async ValueTask<HttpResponse> ChangeAsync(Kafka.KafkaNode node, string rawId, bool decommission)
    {
        if (!TryParseId(rawId, out int id, out var wrong))
        {
            return wrong!;
        }
        var controller = node.Broker.Controller;
        if (controller.View.Removed.Contains(id))
        {
            return AdminJson.Error(400, $"node {id} was removed from the cluster");
        }
        if (controller.View.Broker(id) is null && !controller.View.NodeIds(controller.Voters).Contains(id))
        {
            return AdminJson.Error(404, $"node {id} is not a member of this cluster");
        }
        string? problem;
        try
        {
            problem = decommission ? await controller.DecommissionAsync(id) : await controller.RecommissionAsync(id);
        }
        catch (ControllerUnavailableException e)
        {
            return AdminJson.Error(503, e.Message);
        }
        if (problem is not null)
        {
            return AdminJson.Error(400, problem);
        }
        return AdminJson.Ok(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("node_id", id);
            w.WriteString("status", decommission ? "draining" : "active");
            w.WriteEndObject();
        });
    }

    private static bool TryParseId(string raw, out int id, out HttpResponse? wrong)
    {
        bool parsed = int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0;
        wrong = parsed ? null : AdminJson.Error(400, $"'{raw}' is not a node id");
        return parsed;
    }
}
