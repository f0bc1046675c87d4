using System.CommandLine;

namespace Eddy.Host.Commands.Bench;

/// <summary>`eddy bench produce|consume`: the load generator and checker in the binary (docs/cli.md).</summary>
internal static class BenchCommands
{
    public static Command Build()
    {
        var bench = new Command("bench", "Load a cluster and measure it: throughput, latency, and loss or duplicates on read back");
        bench.Subcommands.Add(BenchProduce.Build());
        bench.Subcommands.Add(BenchConsume.Build());
        return bench;
    }
}
