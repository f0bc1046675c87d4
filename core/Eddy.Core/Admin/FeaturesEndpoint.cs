using Eddy.Cluster;
using Eddy.Http;

namespace Eddy.Admin;

/// <summary>
/// GET /v1/features: the cluster's logical version (the lowest any node runs, each asked), this node's, the nodes
/// that did not answer, and each feature with the version that brought it and whether the cluster has reached it
/// (<see cref="ClusterFeatures"/>). A rolling upgrade is done when the cluster's version is this node's.
/// </summary>
internal static class FeaturesEndpoint
{
    public static void Map(HttpRoutes routes, AdminContext context) => routes.MapGet("/v1/features", context.WithNode(async (node, _, _) =>
    {
        var controller = node.Broker.Controller;
        var versions = await BrokerEndpoints.VersionsAsync(controller, controller.View.Brokers.Select(b => b.NodeId).Append(controller.NodeId).Distinct());
        var known = versions.Values.OfType<(int Logical, string Software)>().Select(v => v.Logical).ToList();
        var silent = versions.Where(v => v.Value is null).Select(v => v.Key).Order().ToList();
        // A node that did not answer may run an older version: while any is silent, the cluster's version is not known.
        int? clusterVersion = silent.Count == 0 ? known.Min() : null;
        return AdminJson.Ok(w =>
        {
            w.WriteStartObject();
            if (clusterVersion is int version)
            {
                w.WriteNumber("cluster_version", version);
            }
            w.WriteNumber("node_latest_version", ClusterFeatures.LogicalVersion);
            w.WriteStartArray("nodes_not_answering");
            foreach (int id in silent)
            {
                w.WriteNumberValue(id);
            }
            w.WriteEndArray();
            w.WriteStartArray("features");
            foreach (var feature in ClusterFeatures.All)
            {
                w.WriteStartObject();
                w.WriteString("name", feature.Name);
                w.WriteNumber("version", feature.Version);
                w.WriteString("state", clusterVersion is null ? "unknown" : feature.Version <= clusterVersion ? "active" : "unavailable");
                w.WriteString("description", feature.Description);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }));
}
