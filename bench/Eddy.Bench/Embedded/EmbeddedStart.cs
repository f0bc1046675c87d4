using System.Diagnostics;
using Eddy.Embedded;

namespace Eddy.Bench.Embedded;

/// <summary>
/// `embedded-start [rounds]`: an <see cref="EddyNode"/> started and disposed again and again in one process, as a test
/// suite does: start to ready (until it accepts clients, as <see cref="EddyNode.StartedIn"/> measures it) and stop
/// (dispose, data directory removed included), the first round (a cold process) apart from the rest (warm).
/// </summary>
internal static class EmbeddedStart
{
    public static async Task<int> Run(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0]) : 50;
        var starts = new List<double>();
        var stops = new List<double>();
        for (int i = 0; i < rounds; i++)
        {
            var node = await EddyNode.StartAsync();
            starts.Add(node.StartedIn.TotalMilliseconds);
            var stopping = Stopwatch.StartNew();
            await node.DisposeAsync();
            stops.Add(stopping.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"first (cold process): start {starts[0]:F1} ms, stop {stops[0]:F1} ms");
        Console.WriteLine($"warm, {rounds - 1} rounds: start {Describe(starts.Skip(1))}; stop {Describe(stops.Skip(1))}");
        return 0;
    }

    private static string Describe(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return $"min {sorted[0]:F2} ms, p50 {sorted[sorted.Length / 2]:F2} ms, p90 {sorted[(int)(sorted.Length * 0.9)]:F2} ms, max {sorted[^1]:F2} ms";
    }
}
