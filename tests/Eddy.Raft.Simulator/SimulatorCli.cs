using System.Diagnostics;
using Eddy.Raft;

namespace Eddy.Raft.Simulator;

/// <summary>
/// The command line: --seeds N [--first-seed F] | --seed S, --nodes 3|5, --groups G, --ticks T,
/// --bug commit-old-term|forget-vote, --bench. The last line is the summary; exit 1 on a violation.
/// </summary>
public static class SimulatorCli
{
    public static int Run(string[] args, TextWriter output)
    {
        int seeds = SimOptions.DefaultSeeds;
        long firstSeed = 1;
        long? single = null;
        int nodes = 5, groups = 3, ticks = SimOptions.DefaultTicks;
        var bug = PlantedBug.None;
        bool bench = false, stopAtFirst = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--seeds": seeds = int.Parse(Value()); break;
                case "--first-seed": firstSeed = long.Parse(Value()); break;
                case "--seed": single = long.Parse(Value()); break;
                case "--nodes": nodes = int.Parse(Value()); break;
                case "--groups": groups = int.Parse(Value()); break;
                case "--ticks": ticks = int.Parse(Value()); break;
                case "--bug": bug = SimOptions.ParseBug(Value()); break;
                case "--stop-at-first": stopAtFirst = true; break;
                case "--bench": bench = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (bench) return Bench.Run(output);
        if (nodes is < 1 or > RaftOptions.MaxMembers) throw new ArgumentException("--nodes out of range");
        var options = new SimOptions { Nodes = nodes, Groups = groups, Ticks = ticks, Bug = bug };
        if (single is long s)
        {
            firstSeed = s;
            seeds = 1;
        }
        var summary = RunSeeds(options, firstSeed, seeds, stopAtFirst, output, verbose: single is not null);
        output.WriteLine($"seeds={summary.Seeds} violations={summary.Violations} liveness_failures={summary.LivenessFailures} ticks={summary.Ticks}");
        return summary.Violations > 0 || summary.LivenessFailures > 0 ? 1 : 0;
    }

    internal sealed record Summary(int Seeds, int Violations, int LivenessFailures, long Ticks, long? FirstViolatingSeed, double Seconds);

    internal static Summary RunSeeds(SimOptions options, long firstSeed, int seeds, bool stopAtFirst, TextWriter output, bool verbose = false)
    {
        int violations = 0, liveness = 0, ran = 0;
        long ticks = 0;
        long? first = null;
        var clock = Stopwatch.StartNew();
        for (long seed = firstSeed; seed < firstSeed + seeds; seed++)
        {
            var result = new Simulation(options, seed).Run(verbose ? output : null);
            ran++;
            ticks += result.Ticks;
            if (verbose)
            {
                output.WriteLine($"seed={seed} hash={result.EventHash:x16} events={result.Events} committed={result.Committed} leaders={result.Leaders} ticks={result.Ticks}");
            }
            if (result.Violation is not null)
            {
                violations++;
                first ??= seed;
                output.WriteLine($"seed={seed} VIOLATION {result.Violation}");
                if (stopAtFirst) break;
            }
            else if (result.LivenessFailed)
            {
                liveness++;
                output.WriteLine($"seed={seed} LIVENESS no leader or pending commands not committed within the bound");
            }
        }
        return new Summary(ran, violations, liveness, ticks, first, clock.Elapsed.TotalSeconds);
    }
}
