using Eddy.Client.Bench;

namespace Eddy.Client.Tests;

/// <summary>The bench's latency histogram: exact below 64 us, within 1/64 (1.6%) above, never above the largest sample.</summary>
public sealed class LatencyHistogramTests
{
    [Fact]
    public void PercentilesAreWithinABucketOfTheExactOnes()
    {
        var random = new Random(7);
        var samples = Enumerable.Range(0, 100_000).Select(_ => (long)Math.Exp(random.NextDouble() * 16)).ToArray();
        var histogram = new LatencyHistogram();
        foreach (long s in samples)
        {
            histogram.Record(s);
        }
        Array.Sort(samples);
        foreach (double percent in new[] { 1.0, 50, 90, 99, 99.9, 100 })
        {
            long exact = samples[(int)Math.Ceiling(percent / 100 * samples.Length) - 1];
            long reported = histogram.Percentile(percent);
            Assert.InRange(reported, exact, Math.Max(exact + 1, (long)(exact * (1 + 1.0 / 64)) + 1));
        }
        Assert.Equal(samples[^1], histogram.Max);
        Assert.Equal(samples.Length, histogram.Count);
    }

    [Fact]
    public void SmallValuesAreExactAndNoneIsZero()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.Percentile(99));
        foreach (long v in new long[] { 3, 5, 7, 63 })
        {
            histogram.Record(v);
        }
        Assert.Equal(5, histogram.Percentile(50));
        Assert.Equal(63, histogram.Percentile(100));
        histogram.Record(-4); // a clock that stepped back counts as 0
        Assert.Equal(0, histogram.Percentile(1));
    }
}
