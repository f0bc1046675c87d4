using Eddy.Http;

namespace Eddy.Admin;

/// <summary>GET /v1/cluster/health_overview: whether the cluster is healthy (a controller leader, every node up,
/// every partition led and every replica in sync), the nodes and those down, and the partitions that have no leader or
/// are under-replicated.</summary>
internal static class HealthEndpoint
{
    /// <summary>Partitions named in each list, at most: the counts say how many there are in all.</summary>
    private const int MaxListed = 100;

    public static void Map(HttpRoutes routes, AdminContext context) => routes.MapGet("/v1/cluster/health_overview", context.WithNode(async (node, _, _) =>
    {
        var controller = node.Broker.Controller;
        var view = controller.View;
        var leaderless = new List<string>();
        var underReplicated = new List<string>();
        foreach (var topic in view.Topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            for (int p = 0; p < topic.PartitionCount; p++)
            {
                if (view.LeaderOf(topic, p).Node <= 0)
                {
                    leaderless.Add($"{topic.Name}/{p}");
                }
                else if (p < topic.Replicas.Count && view.InSyncOf(topic, p).Length < topic.Replicas[p].Length)
                {
                    underReplicated.Add($"{topic.Name}/{p}");
                }
            }
        }
        int controllerId = controller.LeaderId;
        var alive = await BrokerEndpoints.AliveAsync(controller);
        var down = view.Brokers.Select(b => b.NodeId).Where(id => alive is null || !alive.Contains(id)).Order().ToList();
        return AdminJson.Ok(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("is_healthy", controllerId > 0 && alive is not null && down.Count == 0 && leaderless.Count == 0 && underReplicated.Count == 0);
            w.WriteNumber("controller_id", controllerId > 0 ? controllerId : -1);
            AdminJson.WriteInts(w, "all_nodes", view.Brokers.Select(b => b.NodeId).Order());
            if (alive is not null)
            {
                AdminJson.WriteInts(w, "nodes_down", down);
            }
            w.WriteNumber("leaderless_count", leaderless.Count);
            WriteNames(w, "leaderless_partitions", leaderless);
            w.WriteNumber("under_replicated_count", underReplicated.Count);
            WriteNames(w, "under_replicated_partitions", underReplicated);
            w.WriteEndObject();
        });
    }));

    private static void WriteNames(System.Text.Json.Utf8JsonWriter w, string name, List<string> names)
    {
        w.WriteStartArray(name);
        foreach (string partition in names.Take(MaxListed))
        {
            w.WriteStringValue(partition);
        }
        w.WriteEndArray();
    }
}
