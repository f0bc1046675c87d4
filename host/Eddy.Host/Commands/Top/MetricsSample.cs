using System.Globalization;

namespace Eddy.Host.Commands.Top;

/// <summary>One scrape of a node's /metrics (Prometheus text): each series by name with its labels, and when it was
/// taken. Only what `eddy top` reads is kept: eddy_* samples, label values by name.</summary>
internal sealed class MetricsSample
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _series = new();

    public MetricsSample(string text, DateTime takenAt)
    {
        TakenAt = takenAt;
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            int space = line.LastIndexOf(' ');
            if (space <= 0 || !double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                continue;
            }
            string series = line[..space];
            int brace = series.IndexOf('{');
            string name = brace < 0 ? series : series[..brace];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (brace >= 0)
            {
                foreach (var pair in series[(brace + 1)..^1].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    int eq = pair.IndexOf('=');
                    if (eq > 0)
                    {
                        labels[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                    }
                }
            }
            _series.Add((name, labels, value));
        }
    }

    public DateTime TakenAt { get; }

    /// <summary>The shards the sample has figures for.</summary>
    public IEnumerable<int> Shards => _series.Where(s => s.Name == "eddy_reactor_uptime_seconds" && s.Labels.ContainsKey("shard"))
        .Select(s => int.Parse(s.Labels["shard"], CultureInfo.InvariantCulture)).Distinct().Order();

    /// <summary>The sum of a metric's series for one shard (every kind, api or topic), or for all shards when null.</summary>
    public double Sum(string name, int? shard = null, string? label = null, string? labelValue = null) => _series
        .Where(s => s.Name == name && (shard is null || s.Labels.TryGetValue("shard", out var v) && v == shard.Value.ToString(CultureInfo.InvariantCulture))
            && (label is null || s.Labels.TryGetValue(label, out var l) && l == labelValue))
        .Sum(s => s.Value);

    /// <summary>A histogram's cumulative bucket counts for one shard, by upper bound.</summary>
    public SortedDictionary<double, double> Buckets(string name, int shard)
    {
        var buckets = new SortedDictionary<double, double>();
        foreach (var s in _series.Where(s => s.Name == name + "_bucket" && s.Labels.TryGetValue("shard", out var v) && v == shard.ToString(CultureInfo.InvariantCulture)))
        {
            double le = s.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(s.Labels["le"], CultureInfo.InvariantCulture);
            buckets[le] = buckets.GetValueOrDefault(le) + s.Value;
        }
        return buckets;
    }
}
