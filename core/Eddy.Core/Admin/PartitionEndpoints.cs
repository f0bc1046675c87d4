using System.Globalization;
using System.Text.Json;
using Eddy.Cluster;
using Eddy.Http;

namespace Eddy.Admin;

/// <summary>GET /v1/partitions (every partition: leader, epoch, replicas, in-sync replicas, from the controller's view)
/// and /v1/partitions/kafka/{topic}/{partition} (the same, and the high watermark and log start offset of this node's
/// replica where it holds one).</summary>
internal static class PartitionEndpoints
{
    public static void Map(HttpRoutes routes, AdminContext context)
    {
        routes.MapGet("/v1/partitions", context.WithNode((node, _, _) =>
        {
            var view = node.Broker.Controller.View;
            return new ValueTask<HttpResponse>(AdminJson.Ok(w =>
            {
                w.WriteStartArray();
                foreach (var topic in view.Topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
                {
                    for (int p = 0; p < topic.PartitionCount; p++)
                    {
                        w.WriteStartObject();
                        WriteFields(w, view, topic, p);
                        w.WriteEndObject();
                    }
                }
                w.WriteEndArray();
            }));
        }));
        routes.MapGet("/v1/partitions/kafka/{topic}/{partition}", context.WithNode(async (node, _, values) =>
        {
            if (!int.TryParse(values["partition"], NumberStyles.None, CultureInfo.InvariantCulture, out int p))
            {
                return AdminJson.Error(400, $"'{values["partition"]}' is not a partition number");
            }
            var view = node.Broker.Controller.View;
            if (!view.Topics.TryGetValue(values["topic"], out var topic) || p >= topic.PartitionCount)
            {
                return AdminJson.Error(404, $"no partition {values["topic"]}/{p}");
            }
            var local = topic.HasReplicaOn(p, node.Broker.Controller.NodeId)
                ? await node.Broker.Router.OnPartitionAsync(topic.Name, p, found => new ValueTask<(long, long)?>((found.HighWatermark, found.LogStartOffset)), null)
                : null;
            return AdminJson.Ok(w =>
            {
                w.WriteStartObject();
                WriteFields(w, view, topic, p);
                if (local is var (highWatermark, logStart))
                {
                    w.WriteNumber("high_watermark", highWatermark);
                    w.WriteNumber("log_start_offset", logStart);
                }
                w.WriteEndObject();
            });
        }));
    }

    private static void WriteFields(Utf8JsonWriter w, ClusterView view, TopicInfo topic, int partition)
    {
        var (leader, epoch) = view.LeaderOf(topic, partition);
        w.WriteString("ns", "kafka");
        w.WriteString("topic", topic.Name);
        w.WriteNumber("partition_id", partition);
        w.WriteNumber("leader_id", leader > 0 ? leader : -1);
        w.WriteNumber("leader_epoch", epoch);
        AdminJson.WriteInts(w, "replicas", partition < topic.Replicas.Count ? topic.Replicas[partition] : []);
        AdminJson.WriteInts(w, "isr", view.InSyncOf(topic, partition));
    }
}
