using System.Diagnostics;
using Eddy.Runtime;

namespace Eddy.Bench.Runtime;

/// <summary>
/// `smp-latency`: round trip of Smp.SubmitTo from shard 0 to shard 1, with shard 1 asleep (idle, woken by the
/// eventfd) and with it busy (running 20 us work items back to back).
/// </summary>
internal static class SmpLatency
{
    private const int Calls = 100_000;

    public static int Run(string[] args)
    {
        using var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 2 });
        Console.WriteLine($"SubmitTo round trip, shard 0 -> 1 ({group.InvokeAsync(0, () => Shard.Current!.IoBackendName).GetAwaiter().GetResult()}):");
        Console.WriteLine($"  target asleep: {Measure(group, paceMicros: 50)}");
        var busy = new BusyLoop();
        group.InvokeAsync(1, () => { busy.Start(); return true; }).GetAwaiter().GetResult();
        Console.WriteLine($"  target busy:   {Measure(group, paceMicros: 0)}");
        busy.Stop = true;
        return 0;
    }

    private static string Measure(ShardGroup group, int paceMicros)
    {
        var samples = new long[Calls];
        group.InvokeAsync(0, async () =>
        {
            for (int i = 0; i < Calls; i++)
            {
                if (paceMicros > 0)
                {
                    // Give the target time to fall asleep so each call pays for the wake-up.
                    long until = Stopwatch.GetTimestamp() + paceMicros * Stopwatch.Frequency / 1_000_000;
                    while (Stopwatch.GetTimestamp() < until)
                    {
                    }
                }
                long start = Stopwatch.GetTimestamp();
                await Smp.SubmitTo(1, static () => 1);
                samples[i] = (Stopwatch.GetTimestamp() - start) * 1_000_000_000 / Stopwatch.Frequency;
            }
            return true;
        }).GetAwaiter().GetResult();
        return Percentiles.Describe(samples);
    }

    private sealed class BusyLoop
    {
        public volatile bool Stop;

        public void Start() => Shard.Current!.Post(Spin, this);

        private static void Spin(object? state)
        {
            var self = (BusyLoop)state!;
            long until = Stopwatch.GetTimestamp() + 20 * Stopwatch.Frequency / 1_000_000;
            while (Stopwatch.GetTimestamp() < until)
            {
            }
            if (!self.Stop)
            {
                Shard.Current!.Post(Spin, self);
            }
        }
    }
}
