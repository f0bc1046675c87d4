using System.Text.RegularExpressions;
using Eddy.Raft.Simulator;

namespace Eddy.Raft.Tests;

/// <summary>Runs the simulator's command line in-process and reads its summary line.</summary>
internal static partial class SimulatorRun
{
    public static (int ExitCode, string[] Lines) Run(params string[] args)
    {
        var output = new StringWriter();
        int code = SimulatorCli.Run(args, output);
        return (code, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [GeneratedRegex(@"^seeds=(\d+) violations=(\d+) liveness_failures=(\d+) ticks=(\d+)$")]
    private static partial Regex SummaryLine();

    public static (int Seeds, int Violations, int Liveness, long Ticks) Summary(string[] lines)
    {
        var m = SummaryLine().Match(lines[^1]);
        Assert.True(m.Success, $"last line is not the summary: {lines[^1]}");
        return (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value), long.Parse(m.Groups[4].Value));
    }
}

/// <summary>
/// The simulator under xunit. CI's budget: 40 seeds x 4,000 fault ticks on 3 nodes and on 5 nodes
/// (3 groups each, each seed with its own fault profile), plus the planted-bug hunts below.
/// </summary>
public class SimulatorTests
{
    public const int CiSeeds = 40;
    public const int CiTicks = 4000;

    private static (int ExitCode, string[] Lines) Run(params string[] args) => SimulatorRun.Run(args);
    private static (int Seeds, int Violations, int Liveness, long Ticks) Summary(string[] lines) => SimulatorRun.Summary(lines);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void CiSeedBudgetFindsNoViolations(int nodes)
    {
        var (code, lines) = Run("--seeds", $"{CiSeeds}", "--nodes", $"{nodes}", "--ticks", $"{CiTicks}", "--first-seed", $"{nodes * 1000}");
        var summary = Summary(lines);
        Assert.True(code == 0, string.Join('\n', lines));
        Assert.Equal((CiSeeds, 0, 0), (summary.Seeds, summary.Violations, summary.Liveness));
        Assert.True(summary.Ticks >= CiSeeds * CiTicks);
    }

    [Fact]
    public void ReplayingASeedReproducesItsEventLog()
    {
        string Hash(long seed)
        {
            var (_, lines) = Run("--seed", $"{seed}", "--nodes", "5", "--ticks", "3000");
            return Regex.Match(lines[0], "hash=([0-9a-f]{16})").Groups[1].Value;
        }
        string first = Hash(42);
        Assert.Matches("^[0-9a-f]{16}$", first);
        Assert.Equal(first, Hash(42));
        Assert.NotEqual(first, Hash(43));
    }

}

/// <summary>
/// Each planted bug must be caught within the default budget (1,000 seeds x 20,000 ticks); the hunt
/// stops at the first violation, so a pass costs only the seeds before it.
/// </summary>
public class PlantedBugTests
{
    [Theory]
    [InlineData("commit-old-term", 3)]
    [InlineData("commit-old-term", 5)]
    [InlineData("forget-vote", 3)]
    [InlineData("forget-vote", 5)]
    [InlineData("stale-read", 3)]
    [InlineData("stale-read", 5)]
    [InlineData("skip-prev-check", 3)]
    [InlineData("skip-prev-check", 5)]
    public void PlantedBugIsCaughtWithinTheDefaultSeedBudget(string bug, int nodes)
    {
        var (code, lines) = SimulatorRun.Run("--bug", bug, "--nodes", $"{nodes}", "--stop-at-first");
        var summary = SimulatorRun.Summary(lines);
        Assert.Equal(1, code);
        Assert.Equal(1, summary.Violations);
        Assert.InRange(summary.Seeds, 1, SimOptions.DefaultSeeds);
        Assert.Contains(lines, l => l.Contains("VIOLATION", StringComparison.Ordinal));
    }
}
