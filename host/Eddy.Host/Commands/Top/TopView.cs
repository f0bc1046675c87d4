using System.Text;

namespace Eddy.Host.Commands.Top;

/// <summary>
/// What `eddy top` draws from two scrapes of each node a second apart: per shard the reactor's utilization, tasks run
/// per second, work queued into it and waiting in its outbox, I/O in flight, the p99 of the fsyncs in the interval,
/// partitions and leaders; per node bytes in and out per second, requests per second, resident memory.
/// </summary>
internal static class TopView
{
    public static string Render(IReadOnlyList<(string Node, MetricsSample? Before, MetricsSample? Now, string? Error)> nodes, DateTime at)
    {
        var text = new StringBuilder();
        text.Append($"eddy top  {at:HH:mm:ss}  (q quits)\n\n");
        var table = new TextTable("NODE", "SHARD", "UTIL", "TASKS/S", "QUEUED", "OUTBOX", "IO-IN-FLIGHT", "FSYNC-P99", "PARTITIONS", "LEADERS");
        var totals = new List<string>();
        foreach (var (node, before, now, error) in nodes)
        {
            if (now is null)
            {
                table.Add(node, "-", error ?? "no answer");
                continue;
            }
            double seconds = before is null ? 0 : (now.TakenAt - before.TakenAt).TotalSeconds;
            foreach (int shard in now.Shards)
            {
                table.Add(node, shard,
                    $"{now.Sum("eddy_reactor_utilization", shard) * 100:0.0}%",
                    Rate(before, now, "eddy_reactor_tasks_run_total", shard, seconds),
                    now.Sum("eddy_smp_incoming_queued", shard),
                    now.Sum("eddy_smp_outbox_waiting", shard),
                    now.Sum("eddy_io_started_total", shard) - now.Sum("eddy_io_completed_total", shard),
                    FsyncP99(before, now, shard),
                    now.Sum("eddy_partitions", shard),
                    now.Sum("eddy_partition_leaders", shard));
            }
            totals.Add($"{node}: in {Bytes(before, now, "eddy_kafka_topic_bytes_in_total", seconds)}/s, out {Bytes(before, now, "eddy_kafka_topic_bytes_out_total", seconds)}/s, " +
                $"requests {Rate(before, now, "eddy_kafka_requests_total", null, seconds)}/s, resident {now.Sum("eddy_memory_resident_bytes") / 1e6:0.0} MB");
        }
        var lines = new StringWriter();
        table.WriteTo(lines);
        text.Append(lines.ToString().Replace(Environment.NewLine, "\n", StringComparison.Ordinal));
        text.Append('\n');
        foreach (var total in totals)
        {
            text.Append(total).Append('\n');
        }
        return text.ToString();
    }

    private static string Rate(MetricsSample? before, MetricsSample now, string name, int? shard, double seconds) =>
        before is null || seconds <= 0 ? "-" : $"{Math.Max(0, now.Sum(name, shard) - before.Sum(name, shard)) / seconds:N0}";

    private static string Bytes(MetricsSample? before, MetricsSample now, string name, double seconds)
    {
        if (before is null || seconds <= 0)
        {
            return "-";
        }
        double rate = Math.Max(0, now.Sum(name) - before.Sum(name)) / seconds;
        return rate >= 1e6 ? $"{rate / 1e6:0.0} MB" : $"{rate / 1e3:0.0} kB";
    }

    /// <summary>The p99 of the fsyncs completed between the two scrapes (the bucket's upper bound), or "-" when none was.</summary>
    private static string FsyncP99(MetricsSample? before, MetricsSample now, int shard)
    {
        const string name = "eddy_io_fsync_latency_seconds";
        var after = now.Buckets(name, shard);
        var earlier = before?.Buckets(name, shard);
        double total = after.Count == 0 ? 0 : after.Values.Last() - (earlier is { Count: > 0 } ? earlier.Values.Last() : 0);
        if (total <= 0)
        {
            return "-";
        }
        foreach (var (le, count) in after)
        {
            if (count - (earlier?.GetValueOrDefault(le) ?? 0) >= 0.99 * total)
            {
                return double.IsPositiveInfinity(le) ? "> max" : le >= 1 ? $"{le:0.##} s" : $"{le * 1000:0.###} ms";
            }
        }
        return "-";
    }
}
