using System.CommandLine;
using System.Diagnostics;
using Eddy.Client;

namespace Eddy.Host.Commands.Top;

/// <summary>
/// `eddy top`: a live view of one node, or of several (--admin-url a,b,c), from their /metrics, redrawn every second
/// on the terminal's alternate screen until q (or Ctrl-C). --once prints one frame (two scrapes a second apart) and
/// exits, for scripts.
/// </summary>
internal static class TopCommand
{
    private const string AlternateScreen = "\u001b[?1049h\u001b[?25l", MainScreen = "\u001b[?25h\u001b[?1049l", Home = "\u001b[H\u001b[2J";

    public static Command Build()
    {
        var interval = new Option<double>("--interval", "-i") { Description = "Seconds between refreshes", DefaultValueFactory = _ => 1 };
        var once = new Option<bool>("--once") { Description = "Print one frame and exit (no screen control)" };
        var command = new Command("top", "A live view of each shard: utilization, tasks, queues, I/O, fsync p99, partitions, bytes in and out; --admin-url a,b,c for several nodes")
        {
            interval, once,
        };
        command.Action(async (parse, cancel) =>
        {
            var urls = parse.GetValue(CliOptions.AdminUrl)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var admins = urls.Select(u => (Url: u, Client: new AdminApiClient(u))).ToList();
            var wait = TimeSpan.FromSeconds(Math.Max(0.1, parse.GetValue(interval)));
            var last = new MetricsSample?[admins.Count];
            try
            {
                if (parse.GetValue(once))
                {
                    await ScrapeAsync(admins, last, cancel);
                    await Task.Delay(wait, cancel);
                    Console.Write(TopView.Render(await ScrapeAsync(admins, last, cancel), DateTime.Now));
                    return CommandRunner.Done;
                }
                Console.Write(AlternateScreen);
                while (true)
                {
                    var frame = TopView.Render(await ScrapeAsync(admins, last, cancel), DateTime.Now);
                    Console.Write(Home + frame.Replace("\n", "\r\n", StringComparison.Ordinal));
                    if (await QuitPressedWithinAsync(wait, cancel))
                    {
                        return CommandRunner.Done;
                    }
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return CommandRunner.Done;
            }
            finally
            {
                if (!parse.GetValue(once))
                {
                    Console.Write(MainScreen);
                }
            }
        });
        return command;
    }

    /// <summary>Scrapes every node at once; each row pairs the previous scrape with this one (a node that did not
    /// answer shows why).</summary>
    private static async Task<List<(string, MetricsSample?, MetricsSample?, string?)>> ScrapeAsync(
        List<(string Url, AdminApiClient Client)> admins, MetricsSample?[] last, CancellationToken cancel)
    {
        var scrapes = admins.Select(a => a.Client.GetTextAsync("metrics", cancel)).ToList();
        var rows = new List<(string, MetricsSample?, MetricsSample?, string?)>();
        for (int i = 0; i < admins.Count; i++)
        {
            try
            {
                var now = new MetricsSample(await scrapes[i], DateTime.UtcNow);
                rows.Add((admins[i].Url, last[i], now, null));
                last[i] = now;
            }
            catch (AdminApiException e)
            {
                rows.Add((admins[i].Url, null, null, e.Message));
                last[i] = null;
            }
        }
        return rows;
    }

    /// <summary>Waits out the interval, watching the keyboard (when stdin is a terminal) for q.</summary>
    private static async Task<bool> QuitPressedWithinAsync(TimeSpan wait, CancellationToken cancel)
    {
        var until = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < until)
        {
            while (!Console.IsInputRedirected && Console.KeyAvailable)
            {
                if (Console.ReadKey(intercept: true).KeyChar is 'q' or 'Q')
                {
                    return true;
                }
            }
            await Task.Delay(50, cancel);
        }
        return false;
    }
}
