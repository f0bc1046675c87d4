using System.Text.RegularExpressions;

namespace Eddy.Host.Tests;

/// <summary>
/// `eddy top` against a running node of two shards: in a real terminal (a detached tmux session, read with
/// capture-pane) it draws a row per shard, moves as the node works, and quits on q; --once prints one frame for scripts.
/// </summary>
public sealed partial class TopTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-top-{Guid.NewGuid():N}");
    private readonly string _session = $"eddy-top-{Guid.NewGuid():N}"[..20];
    private EddyProcess _eddy = null!;

    public async Task InitializeAsync()
    {
        _eddy = await EddyProcess.StartAsync("--smp", "2", "--kafka-addr", "127.0.0.1:0", "--data-dir", _data);
        Assert.True(_eddy.AdminPort > 0, $"eddy said where its admin API listens:\n{_eddy.Output}");
    }

    public async Task DisposeAsync()
    {
        await ChildProcess.RunAsync("tmux", null, "kill-session", "-t", _session);
        await _eddy.StopAsync(15);
        _eddy.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private string AdminUrl => $"127.0.0.1:{_eddy.AdminPort}";

    [GeneratedRegex(@"^\S+\s+(?<shard>\d+)\s+(?<util>[\d.]+)%\s+(?<tasks>[\d,]+)\s+\d+\s+\d+\s+\d+\s+\S+( ms| s)?\s+(?<partitions>\d+)\s+(?<leaders>\d+)$", RegexOptions.Multiline)]
    private static partial Regex ShardRow();

    [Fact]
    public async Task OnceDrawsARowPerShardWithTheNodesFigures()
    {
        var load = await EddyCli.RunAsync("bench", "produce", "topped", "-b", _eddy.Bootstrap, "-n", "20000", "-s", "256", "-p", "4");
        Assert.True(load.ExitCode == 0, load.ToString());
        var frame = await EddyCli.RunAsync("top", "--once", "--admin-url", AdminUrl);
        Assert.True(frame.ExitCode == 0, frame.ToString());
        var rows = ShardRow().Matches(frame.Output);
        Assert.Equal(["0", "1"], rows.Select(r => r.Groups["shard"].Value));
        Assert.True(rows.Sum(r => int.Parse(r.Groups["partitions"].Value)) >= 4, frame.Output);
        Assert.All(rows, r => Assert.True(long.Parse(r.Groups["tasks"].Value.Replace(",", "")) > 0, frame.Output));
        Assert.Contains("resident", frame.Output);
    }

    [Fact]
    public async Task InATerminalItRefreshesAndQuitsOnQ()
    {
        string eddy = EddyBinary.Path;
        var (code, _, error) = await ChildProcess.RunAsync("tmux", null, "new-session", "-d", "-s", _session, "-x", "160", "-y", "40",
            $"'{eddy}' top --admin-url {AdminUrl}; echo TOP-EXITED-$?; sleep 60");
        Assert.True(code == 0, $"tmux new-session: {error}");

        string first = await ScreenWhenAsync(s => ShardRow().Count(s) == 2, "two shard rows");
        var clock = Regex.Match(first, @"eddy top\s+(\d\d:\d\d:\d\d)").Groups[1].Value;
        await ScreenWhenAsync(s => Regex.Match(s, @"eddy top\s+(\d\d:\d\d:\d\d)").Groups[1].Value is { Length: > 0 } now && now != clock, "a redraw a second later");

        await ChildProcess.RunAsync("tmux", null, "send-keys", "-t", _session, "q");
        await ScreenWhenAsync(s => s.Contains("TOP-EXITED-0", StringComparison.Ordinal), "eddy top exiting 0 on q");
    }

    private async Task<string> ScreenWhenAsync(Func<string, bool> seen, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string screen = "";
        while (DateTime.UtcNow < deadline)
        {
            var (_, output, _) = await ChildProcess.RunAsync("tmux", null, "capture-pane", "-p", "-t", _session);
            screen = output;
            if (seen(screen))
            {
                return screen;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"no {what} within 20 s; the screen:\n{screen}");
        return screen;
    }
}
