using System.Globalization;
using System.Text;
using Eddy.Http;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Kafka.Server;
using Eddy.Observability;
using Eddy.Raft.Driver;
using Eddy.Runtime;
using Eddy.Runtime.IO;

namespace Eddy.Admin;

/// <summary>
/// GET /metrics: this node's figures in Prometheus's text format (docs/metrics.md). Each shard keeps its own counters,
/// written by its thread only; a scrape copies them on each shard and writes them here, labelled by shard. The reactor
/// and I/O figures are served while the node starts too; the Kafka and partition ones once it serves.
/// </summary>
internal static class MetricsEndpoint
{
    public static void Map(HttpRoutes routes, AdminContext context) => routes.MapGet("/metrics", async (_, _) =>
    {
        var group = context.Shards;
        var shards = new ShardStats[group.Count];
        var partitions = new PartitionFigures[group.Count];
        var requests = new KafkaApiStats?[group.Count];
        var node = context.Node;
        for (int s = 0; s < group.Count; s++)
        {
            shards[s] = await group.InvokeAsync(s, () => Runtime.Shard.Current!.Snapshot());
            if (node is not null)
            {
                var router = node.Broker.Router;
                var coordinator = node.Groups.CoordinatorOn(s);
                partitions[s] = await group.InvokeAsync(s, () =>
                {
                    var figures = new PartitionFigures { Replication = ReplicationStats.Here.Copy(), Committed = coordinator.CommittedOffsets() };
                    foreach (var partition in router.LocalPartitions)
                    {
                        figures.Open++;
                        figures.Leading += partition.IsLeader ? 1 : 0;
                        var bytes = figures.Topics.GetValueOrDefault(partition.Topic.Name);
                        figures.Topics[partition.Topic.Name] = (bytes.In + partition.BytesIn, bytes.Out + partition.BytesOut);
                        figures.HighWatermarks[new TopicPartition(partition.Topic.Name, partition.Index)] = partition.HighWatermark;
                    }
                    return figures;
                });
                requests[s] = await node.Server.ApiStatsAsync(s);
            }
        }
        var w = new PrometheusWriter();
        WriteReactor(w, shards);
        WriteIo(w, shards);
        if (node is not null)
        {
            WriteKafka(w, requests!);
            w.Family("eddy_partitions", "gauge", "Partition replicas open on the shard.");
            Each(partitions, (s, p) => w.Sample("eddy_partitions", p.Open, Shard(s)));
            w.Family("eddy_partition_leaders", "gauge", "Partitions the shard leads (serves produce and fetch for).");
            Each(partitions, (s, p) => w.Sample("eddy_partition_leaders", p.Leading, Shard(s)));
            WriteTopics(w, partitions);
            WriteReplication(w, partitions);
            WriteGroupLag(w, partitions);
            var controller = node.Broker.Controller;
            var (term, applied) = await group.InvokeAsync(Cluster.Controller.Shard, () => (controller.Term, controller.AppliedIndex));
            WriteController(w, controller, term, applied);
        }
        WriteProcess(w);
        return new HttpResponse(200, PrometheusWriter.ContentType, Encoding.UTF8.GetBytes(w.ToString()));
    });

    private static (string, string) Shard(int shard) => ("shard", shard.ToString(CultureInfo.InvariantCulture));

    private static void Each<T>(T[] values, Action<int, T> write)
    {
        for (int i = 0; i < values.Length; i++)
        {
            write(i, values[i]);
        }
    }

    private static void WriteReactor(PrometheusWriter w, ShardStats[] shards)
    {
        w.Family("eddy_reactor_utilization", "gauge", "Busy share of the shard's reactor thread over the last whole second (time not asleep waiting for I/O or a timer).");
        Each(shards, (s, x) => w.Sample("eddy_reactor_utilization", x.Utilization, Shard(s)));
        w.Family("eddy_reactor_sleep_seconds_total", "counter", "Time the shard's reactor slept with nothing to run.");
        Each(shards, (s, x) => w.Sample("eddy_reactor_sleep_seconds_total", x.SleepNanos / 1e9, Shard(s)));
        w.Family("eddy_reactor_uptime_seconds", "gauge", "Time since the shard's reactor started.");
        Each(shards, (s, x) => w.Sample("eddy_reactor_uptime_seconds", x.UptimeNanos / 1e9, Shard(s)));
        w.Family("eddy_reactor_loop_turns_total", "counter", "Turns of the shard's reactor loop.");
        Each(shards, (s, x) => w.Sample("eddy_reactor_loop_turns_total", x.LoopTurns, Shard(s)));
        w.Family("eddy_reactor_tasks_run_total", "counter", "Continuations and callbacks the shard ran.");
        Each(shards, (s, x) => w.Sample("eddy_reactor_tasks_run_total", x.TasksRun, Shard(s)));
        w.Family("eddy_smp_incoming_queued", "gauge", "Work from other shards and threads waiting to run on the shard.");
        Each(shards, (s, x) => w.Sample("eddy_smp_incoming_queued", x.IncomingQueued, Shard(s)));
        w.Family("eddy_smp_outbox_waiting", "gauge", "Messages from the shard to others waiting for room in a full queue.");
        Each(shards, (s, x) => w.Sample("eddy_smp_outbox_waiting", x.OutboxWaiting, Shard(s)));
    }

    private static void WriteIo(PrometheusWriter w, ShardStats[] shards)
    {
        w.Family("eddy_io_started_total", "counter", "I/O operations the shard started, by kind.");
        Each(shards, (s, x) =>
        {
            for (int k = 0; k < IoStats.KindNames.Length; k++)
            {
                w.Sample("eddy_io_started_total", x.Io.Started[k], Shard(s), ("kind", IoStats.KindNames[k]));
            }
        });
        w.Family("eddy_io_completed_total", "counter", "I/O operations of the shard that completed, by kind.");
        Each(shards, (s, x) =>
        {
            for (int k = 0; k < IoStats.KindNames.Length; k++)
            {
                w.Sample("eddy_io_completed_total", x.Io.Completed[k], Shard(s), ("kind", IoStats.KindNames[k]));
            }
        });
        w.Family("eddy_io_fsync_latency_seconds", "histogram", "Time from submitting an fsync or fdatasync (alone or linked after a write) to its completion.");
        Each(shards, (s, x) => w.Histogram("eddy_io_fsync_latency_seconds", x.Io.SyncLatency, Shard(s)));
    }

    private static void WriteKafka(PrometheusWriter w, KafkaApiStats[] requests)
    {
        static string Api(int key) => KafkaApis.TryGet((short)key, out var api) ? api.Name : key.ToString(CultureInfo.InvariantCulture);

        w.Family("eddy_kafka_requests_total", "counter", "Kafka requests answered, by API.");
        Each(requests, (s, x) =>
        {
            for (int key = 0; key <= KafkaApiStats.MaxApiKey; key++)
            {
                if (x.Requests[key] > 0)
                {
                    w.Sample("eddy_kafka_requests_total", x.Requests[key], Shard(s), ("api", Api(key)));
                }
            }
        });
        w.Family("eddy_kafka_request_failures_total", "counter", "Kafka requests whose handler or response failed (the connection closed), by API.");
        Each(requests, (s, x) =>
        {
            for (int key = 0; key <= KafkaApiStats.MaxApiKey; key++)
            {
                if (x.Requests[key] > 0)
                {
                    w.Sample("eddy_kafka_request_failures_total", x.Failures[key], Shard(s), ("api", Api(key)));
                }
            }
        });
        w.Family("eddy_kafka_request_latency_seconds", "histogram", "Time from reading a Kafka request to writing its response, by API.");
        Each(requests, (s, x) =>
        {
            for (int key = 0; key <= KafkaApiStats.MaxApiKey; key++)
            {
                if (x.Latency[key] is { } latency)
                {
                    w.Histogram("eddy_kafka_request_latency_seconds", latency, Shard(s), ("api", Api(key)));
                }
            }
        });
    }

    /// <summary>One shard's partitions, copied on it.</summary>
    private sealed class PartitionFigures
    {
        public int Open;
        public int Leading;
        public Dictionary<string, (long In, long Out)> Topics { get; } = new(StringComparer.Ordinal);
        public Dictionary<TopicPartition, long> HighWatermarks { get; } = [];
        public ReplicationStats Replication { get; init; } = null!;
        public List<(string GroupId, TopicPartition Partition, long Offset)> Committed { get; init; } = null!;
    }

    /// <summary>Each group this node coordinates: how far its committed offsets trail the high watermarks of the
    /// partitions that have a replica here (on a follower, the commit index it learned). Partitions without one here
    /// are left out: their high watermark is another node's to know.</summary>
    private static void WriteGroupLag(PrometheusWriter w, PartitionFigures[] partitions)
    {
        var highWatermarks = new Dictionary<TopicPartition, long>();
        foreach (var figures in partitions)
        {
            foreach (var (partition, highWatermark) in figures.HighWatermarks)
            {
                highWatermarks[partition] = highWatermark;
            }
        }
        var lag = new SortedDictionary<string, (long Sum, long Max)>(StringComparer.Ordinal);
        foreach (var (groupId, partition, offset) in partitions.SelectMany(p => p.Committed))
        {
            if (highWatermarks.TryGetValue(partition, out long highWatermark))
            {
                long behind = Math.Max(0, highWatermark - offset);
                var (sum, max) = lag.GetValueOrDefault(groupId);
                lag[groupId] = (sum + behind, Math.Max(max, behind));
            }
        }
        w.Family("eddy_kafka_consumer_group_lag", "gauge", "Records between a group's committed offsets and the high watermarks of their partitions, summed, for the groups this node coordinates.");
        foreach (var (groupId, (sum, _)) in lag)
        {
            w.Sample("eddy_kafka_consumer_group_lag", sum, ("group", groupId));
        }
        w.Family("eddy_kafka_consumer_group_partition_lag_max", "gauge", "The largest lag of one partition of the group, for the groups this node coordinates.");
        foreach (var (groupId, (_, max)) in lag)
        {
            w.Sample("eddy_kafka_consumer_group_partition_lag_max", max, ("group", groupId));
        }
    }

    private static void WriteTopics(PrometheusWriter w, PartitionFigures[] partitions)
    {
        w.Family("eddy_kafka_topic_bytes_in_total", "counter", "Bytes of record batches appended to the topic's partitions on the shard (produce, and the group coordinator's writes).");
        Each(partitions, (s, p) =>
        {
            foreach (var (topic, bytes) in p.Topics.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                w.Sample("eddy_kafka_topic_bytes_in_total", bytes.In, Shard(s), ("topic", topic));
            }
        });
        w.Family("eddy_kafka_topic_bytes_out_total", "counter", "Bytes of record batches of the topic's partitions on the shard handed to fetching clients.");
        Each(partitions, (s, p) =>
        {
            foreach (var (topic, bytes) in p.Topics.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                w.Sample("eddy_kafka_topic_bytes_out_total", bytes.Out, Shard(s), ("topic", topic));
            }
        });
    }

    private static void WriteReplication(PrometheusWriter w, PartitionFigures[] partitions)
    {
        w.Family("eddy_raft_leaderships_gained_total", "counter", "Times a replicated partition on the shard became leader (won an election or was handed leadership).");
        Each(partitions, (s, p) => w.Sample("eddy_raft_leaderships_gained_total", p.Replication.LeadershipsGained, Shard(s)));
        w.Family("eddy_raft_leaderships_lost_total", "counter", "Times a replicated partition on the shard stopped leading.");
        Each(partitions, (s, p) => w.Sample("eddy_raft_leaderships_lost_total", p.Replication.LeadershipsLost, Shard(s)));
        w.Family("eddy_raft_commit_latency_seconds", "histogram", "Time from proposing a batch to a replicated partition's group to its commit (on a majority's disks).");
        Each(partitions, (s, p) => w.Histogram("eddy_raft_commit_latency_seconds", p.Replication.CommitLatency, Shard(s)));
    }

    private static void WriteController(PrometheusWriter w, Cluster.Controller controller, long term, long applied)
    {
        w.Family("eddy_controller_is_leader", "gauge", "1 while this node leads the controller's Raft group, else 0.");
        w.Sample("eddy_controller_is_leader", controller.LeaderId == controller.NodeId ? 1 : 0);
        w.Family("eddy_controller_term", "gauge", "The controller group's term as this node knows it: it rises with each election.");
        w.Sample("eddy_controller_term", term);
        w.Family("eddy_controller_applied_index", "gauge", "The last entry of the controller's log this node applied.");
        w.Sample("eddy_controller_applied_index", applied);
        w.Family("eddy_cluster_config_version", "gauge", "The cluster config changes this node applied.");
        w.Sample("eddy_cluster_config_version", controller.View.ConfigVersion);
    }

    private static void WriteProcess(PrometheusWriter w)
    {
        w.Family("eddy_gc_collections_total", "counter", "Garbage collections since start, by generation.");
        for (int generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            w.Sample("eddy_gc_collections_total", GC.CollectionCount(generation), ("generation", generation.ToString(CultureInfo.InvariantCulture)));
        }
        w.Family("eddy_gc_pause_seconds_total", "counter", "Time the process was paused for garbage collections.");
        w.Sample("eddy_gc_pause_seconds_total", GC.GetTotalPauseDuration().TotalSeconds);
        w.Family("eddy_gc_heap_bytes", "gauge", "Bytes of the managed heap in use after the last collection.");
        w.Sample("eddy_gc_heap_bytes", GC.GetGCMemoryInfo().HeapSizeBytes);
        w.Family("eddy_memory_resident_bytes", "gauge", "The process's resident memory.");
        w.Sample("eddy_memory_resident_bytes", Environment.WorkingSet);
    }
}
