using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Eddy.Broker.Tests;

/// <summary>`eddy start` as a child process: it listens for Kafka clients, answers the real client, and stops on SIGINT.</summary>
public partial class EddyStartTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // The kill command rather than a P/Invoke: P/Invoke lives in native/ only.
    private static int kill(int pid, int signal)
    {
        using var p = Process.Start("kill", $"-{signal} {pid}");
        p.WaitForExit();
        return p.ExitCode;
    }

    [GeneratedRegex(@"kafka: listening on 127\.0\.0\.1:(\d+), advertised as ([^:\s]+):(\d+)")]
    private static partial Regex Listening();

    [Fact]
    public async Task EddyStartServesMetadataAndStopsOnSigintClosingIdleConnections()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        var output = new StringBuilder();
        // env restores SIGINT's default disposition, which a background shell takes away from its children.
        var info = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "eddy.dll"),
                     "start", "--smp", "2", "--kafka-addr", "127.0.0.1:0", "--advertise-kafka-addr", "localhost:0", "--node-id", "3" })
        {
            info.ArgumentList.Add(a);
        }
        using var process = new Process { StartInfo = info };
        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
        string Output()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow + Timeout;
            Match match;
            while (!(match = Listening().Match(Output())).Success)
            {
                Assert.False(process.HasExited || DateTime.UtcNow > deadline, $"eddy did not say where it listens:\n{Output()}");
                await Task.Delay(20);
            }
            int port = int.Parse(match.Groups[1].Value);
            Assert.Equal(("localhost", port), (match.Groups[2].Value, int.Parse(match.Groups[3].Value)));

            using (var admin = ConfluentClientTests.Admin($"127.0.0.1:{port}"))
            {
                var metadata = admin.GetMetadata(TimeSpan.FromSeconds(15));
                var broker = Assert.Single(metadata.Brokers);
                Assert.Equal((3, "localhost", port), (broker.BrokerId, broker.Host, broker.Port));
                // A fresh node has only its internal offsets topic.
                Assert.Equal(["__consumer_offsets"], metadata.Topics.Select(t => t.Topic));
            }

            // An idle connection open at the signal is closed by the broker, and does not hold up the exit.
            using var idle = new RawClient(port);
            await idle.CallAsync<Eddy.Kafka.Protocol.Messages.ApiVersionsResponse>(3, 1, new Eddy.Kafka.Protocol.Messages.ApiVersionsRequest { ClientSoftwareName = "idle", ClientSoftwareVersion = "1" });
            Assert.Equal(0, kill(process.Id, 2));
            Assert.True(await idle.ClosedByBrokerAsync());
            using var cts = new CancellationTokenSource(Timeout);
            await process.WaitForExitAsync(cts.Token);
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("stopped", Output());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }
}
