using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Eddy.Broker.Tests;

/// <summary>
/// `eddy start` as a child process on a free port, with its output captured. Started through env(1), which
/// restores SIGINT's default disposition that a background shell takes away from its children; signals are sent
/// with kill(1), since P/Invoke lives in native/ only.
/// </summary>
public sealed partial class EddyProcess : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private EddyProcess(Process process) => _process = process;

    public int Port { get; private set; }
    public string AdvertisedHost { get; private set; } = "";
    public int AdvertisedPort { get; private set; }
    public string Bootstrap => $"127.0.0.1:{Port}";
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    [GeneratedRegex(@"kafka: listening on 127\.0\.0\.1:(\d+), advertised as ([^:\s]+):(\d+)")]
    private static partial Regex Listening();

    /// <summary>Starts eddy with <paramref name="args"/> after `start` and waits until it listens.</summary>
    public static async Task<EddyProcess> StartAsync(params string[] args)
    {
        var info = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "eddy.dll"), "start" }.Concat(args))
        {
            info.ArgumentList.Add(a);
        }
        var eddy = new EddyProcess(new Process { StartInfo = info });
        eddy._process.OutputDataReceived += (_, e) => eddy.Append(e.Data);
        eddy._process.ErrorDataReceived += (_, e) => eddy.Append(e.Data);
        eddy._process.Start();
        eddy._process.BeginOutputReadLine();
        eddy._process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + Timeout;
        Match match;
        while (!(match = Listening().Match(eddy.Output())).Success)
        {
            if (eddy._process.HasExited || DateTime.UtcNow > deadline)
            {
                string output = eddy.Output();
                eddy.Dispose();
                Assert.Fail($"eddy did not say where it listens:\n{output}");
            }
            await Task.Delay(20);
        }
        eddy.Port = int.Parse(match.Groups[1].Value);
        eddy.AdvertisedHost = match.Groups[2].Value;
        eddy.AdvertisedPort = int.Parse(match.Groups[3].Value);
        return eddy;
    }

    public string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    /// <summary>Sends a signal (2 = SIGINT, 9 = SIGKILL, 15 = SIGTERM) with kill(1).</summary>
    public void Signal(int signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {_process.Id}");
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    public async Task<int> WaitForExitAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    /// <summary>SIGINT, then waits for a clean exit (code 0).</summary>
    public async Task StopAsync()
    {
        Signal(2);
        int code = await WaitForExitAsync();
        Assert.True(code == 0, $"eddy exited with {code}:\n{Output()}");
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
