using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace Eddy.Broker.Tests;

/// <summary>
/// GET /metrics of a running node (the published binary): clean under Prometheus's own checker (`promtool check
/// metrics`, Debian's prometheus package), and its counters follow what the node did: the produce requests a client
/// sent, the fsyncs that made them durable, each shard's reactor, the topic's bytes in and out, a group's lag, the
/// controller's leadership.
/// </summary>
public sealed partial class MetricsTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-metrics-{Guid.NewGuid():N}");
    private EddyProcess _eddy = null!;

    public async Task InitializeAsync() => _eddy = await EddyProcess.StartAsync("--smp", "2", "--kafka-addr", "127.0.0.1:0", "--data-dir", _data);

    public async Task DisposeAsync()
    {
        await _eddy.StopAsync(15);
        _eddy.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private async Task<string> ScrapeAsync()
    {
        using var response = await Http.GetAsync($"http://127.0.0.1:{_eddy.AdminPort}/metrics");
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    [GeneratedRegex(@"^(?<name>[a-z_]+)(\{(?<labels>[^}]*)\})? (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex SampleLine();

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels contain every one of
    /// <paramref name="labels"/>.</summary>
    private static double Sum(string text, string name, params string[] labels) => SampleLine().Matches(text)
        .Where(m => m.Groups["name"].Value == name && labels.All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
        .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [Fact]
    public async Task TheScrapePassesPromtoolAndCountsWhatTheNodeDid()
    {
        string before = await ScrapeAsync();
        const int produced = 50;
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _eddy.Bootstrap, Acks = Acks.All, LingerMs = 0 }).Build())
        {
            for (int i = 0; i < produced; i++)
            {
                await producer.ProduceAsync("metered", new Message<Null, string> { Value = $"m{i}" });
            }
        }
        using (var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = _eddy.Bootstrap, GroupId = "metered-reader", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build())
        {
            consumer.Assign(new TopicPartitionOffset("metered", 0, Offset.Beginning));
            int read = 0;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (read < produced && DateTime.UtcNow < deadline)
            {
                read += consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } ? 1 : 0;
            }
            Assert.Equal(produced, read);
            // The group stops 20 records short of the end: its lag.
            consumer.Commit([new TopicPartitionOffset("metered", 0, produced - 20)]);
        }
        string after = await ScrapeAsync();

        Assert.True(File.Exists("/usr/bin/promtool"), "promtool is installed (Debian's prometheus package; .ci/run installs it)");
        using (var promtool = Process.Start(new ProcessStartInfo("/usr/bin/promtool", "check metrics")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        })!)
        {
            await promtool.StandardInput.WriteAsync(after);
            promtool.StandardInput.Close();
            string complaints = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
            await promtool.WaitForExitAsync();
            Assert.True(promtool.ExitCode == 0 && complaints.Trim().Length == 0, $"promtool check metrics:\n{complaints}");
        }

        double produces = Sum(after, "eddy_kafka_requests_total", "api=\"Produce\"") - Sum(before, "eddy_kafka_requests_total", "api=\"Produce\"");
        Assert.True(produces >= produced, $"{produces} produce requests counted for {produced} sent one at a time");
        Assert.Equal(Sum(after, "eddy_kafka_request_latency_seconds_count", "api=\"Produce\""), Sum(after, "eddy_kafka_requests_total", "api=\"Produce\""));
        Assert.Equal(0, Sum(after, "eddy_kafka_request_failures_total"));
        Assert.True(Sum(after, "eddy_io_fsync_latency_seconds_count") > Sum(before, "eddy_io_fsync_latency_seconds_count"), "acks=all produces were made durable by fsyncs");
        Assert.True(Sum(after, "eddy_io_completed_total", "kind=\"receive\"") > 0);
        Assert.Equal(2, SampleLine().Matches(after).Count(m => m.Groups["name"].Value == "eddy_reactor_utilization"));
        Assert.All(SampleLine().Matches(after).Where(m => m.Groups["name"].Value == "eddy_reactor_utilization"),
            m => Assert.InRange(double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture), 0, 1));
        Assert.True(Sum(after, "eddy_reactor_tasks_run_total") > Sum(before, "eddy_reactor_tasks_run_total"));
        Assert.True(Sum(after, "eddy_partition_leaders") >= 1, "the node leads the topic's partition");
        Assert.True(Sum(after, "eddy_memory_resident_bytes") > 1 << 20);
        // Each value is 2 to 3 bytes, in a batch of its own: at least the values' bytes in, and all of them back out.
        double bytesIn = Sum(after, "eddy_kafka_topic_bytes_in_total", "topic=\"metered\"");
        Assert.True(bytesIn >= produced * 2, $"{bytesIn} bytes in for {produced} records");
        Assert.True(Sum(after, "eddy_kafka_topic_bytes_out_total", "topic=\"metered\"") >= bytesIn, "the consumer read every batch back");
        Assert.Equal((20, 20), (Sum(after, "eddy_kafka_consumer_group_lag", "group=\"metered-reader\""), Sum(after, "eddy_kafka_consumer_group_partition_lag_max", "group=\"metered-reader\"")));
        Assert.Equal(1, Sum(after, "eddy_controller_is_leader"));
        Assert.True(Sum(after, "eddy_controller_term") >= 1 && Sum(after, "eddy_controller_applied_index") >= 1, "the lone node elected itself and applied its registration");
    }
}
