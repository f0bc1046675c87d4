namespace Eddy.Client.Bench;

/// <summary>
/// Latencies in microseconds, counted exactly below 64 and above in buckets 1/64 of a power of two wide (under 1.6%
/// error): fixed memory, no allocation per sample, percentiles read off the counts (each reported as its bucket's top,
/// never above the largest sample). Not thread-safe.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBits = 6;
    private const int SubBuckets = 1 << SubBits;
    private readonly long[] _counts = new long[SubBuckets * (64 - SubBits + 1)];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public void Record(long micros)
    {
        micros = Math.Max(micros, 0);
        _counts[Index(micros)]++;
        Max = Math.Max(Max, micros);
        Count++;
    }

    /// <summary>The latency at or under which <paramref name="percent"/>% of samples fall (0 when there are none).</summary>
    public long Percentile(double percent)
    {
        if (Count == 0)
        {
            return 0;
        }
        long rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(UpperBound(i), Max);
            }
        }
        return Max;
    }

    private static int Index(long v)
    {
        int power = 63 - (int)long.LeadingZeroCount(v | 1);
        if (power < SubBits)
        {
            return (int)v;
        }
        int shift = power - SubBits;
        return SubBuckets * (shift + 1) + (int)(v >> shift) - SubBuckets;
    }

    private static long UpperBound(int index)
    {
        if (index < SubBuckets)
        {
            return index;
        }
        int shift = index / SubBuckets - 1;
        long sub = index % SubBuckets + SubBuckets;
        return ((sub + 1) << shift) - 1;
    }
}
