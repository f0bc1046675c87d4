using System.Diagnostics;

namespace Eddy.Observability;

/// <summary>
/// Counts of durations in fixed buckets, 100 us to 10 s, Prometheus style (each bucket counts what is at most its
/// bound; one more bucket past the last). One thread writes it (its shard's); a scrape copies it on that thread and
/// merges the copies. Recording is a bounded scan and three increments: no allocation, no lock.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>The buckets' upper bounds, in seconds.</summary>
    public static readonly double[] Bounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly long[] BoundTicks = Bounds.Select(b => (long)(b * Stopwatch.Frequency)).ToArray();

    /// <summary>Per bucket, and one past the last bound.</summary>
    public long[] Counts { get; } = new long[Bounds.Length + 1];

    public long Count { get; private set; }

    /// <summary>The sum of what was recorded, in <see cref="Stopwatch"/> ticks.</summary>
    public long SumTicks { get; private set; }

    public void Record(long elapsedTicks)
    {
        int bucket = 0;
        while (bucket < BoundTicks.Length && elapsedTicks > BoundTicks[bucket])
        {
            bucket++;
        }
        Counts[bucket]++;
        Count++;
        SumTicks += elapsedTicks;
    }

    /// <summary>Adds <paramref name="other"/>'s counts to this one's (merging shards' copies).</summary>
    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < Counts.Length; i++)
        {
            Counts[i] += other.Counts[i];
        }
        Count += other.Count;
        SumTicks += other.SumTicks;
    }

    public LatencyHistogram Copy()
    {
        var copy = new LatencyHistogram();
        copy.Add(this);
        return copy;
    }
}
