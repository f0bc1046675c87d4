using System.Globalization;
using System.Text;

namespace Eddy.Observability;

/// <summary>
/// Writes Prometheus's text exposition format (version 0.0.4): each family's HELP and TYPE once, then its samples,
/// label values escaped, histograms as cumulative buckets with their sum and count.
/// </summary>
public sealed class PrometheusWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new(16 << 10);

    /// <summary>Starts a family: <paramref name="type"/> is counter, gauge or histogram.</summary>
    public PrometheusWriter Family(string name, string type, string help)
    {
        _text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    public PrometheusWriter Sample(string name, double value, params (string Name, string Value)[] labels)
    {
        _text.Append(name);
        AppendLabels(labels, le: null);
        _text.Append(' ').Append(Format(value)).Append('\n');
        return this;
    }

    /// <summary>A histogram's samples, in seconds: a bucket per bound (counting what is at most it), +Inf, sum, count.</summary>
    public PrometheusWriter Histogram(string name, LatencyHistogram histogram, params (string Name, string Value)[] labels)
    {
        long cumulative = 0;
        for (int i = 0; i < LatencyHistogram.Bounds.Length; i++)
        {
            cumulative += histogram.Counts[i];
            _text.Append(name).Append("_bucket");
            AppendLabels(labels, Format(LatencyHistogram.Bounds[i]));
            _text.Append(' ').Append(cumulative).Append('\n');
        }
        _text.Append(name).Append("_bucket");
        AppendLabels(labels, "+Inf");
        _text.Append(' ').Append(histogram.Count).Append('\n');
        _text.Append(name).Append("_sum");
        AppendLabels(labels, le: null);
        _text.Append(' ').Append(Format((double)histogram.SumTicks / System.Diagnostics.Stopwatch.Frequency)).Append('\n');
        _text.Append(name).Append("_count");
        AppendLabels(labels, le: null);
        _text.Append(' ').Append(histogram.Count).Append('\n');
        return this;
    }

    public override string ToString() => _text.ToString();

    private void AppendLabels((string Name, string Value)[] labels, string? le)
    {
        if (labels.Length == 0 && le is null)
        {
            return;
        }
        _text.Append('{');
        bool first = true;
        foreach (var (label, value) in labels)
        {
            if (!first)
            {
                _text.Append(',');
            }
            first = false;
            _text.Append(label).Append("=\"").Append(Escape(value)).Append('"');
        }
        if (le is not null)
        {
            _text.Append(first ? "" : ",").Append("le=\"").Append(le).Append('"');
        }
        _text.Append('}');
    }

    private static string Escape(string value) => value
        .Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);
}
