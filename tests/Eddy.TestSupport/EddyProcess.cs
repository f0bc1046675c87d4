using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Eddy.TestSupport;

/// <summary>
/// The published `eddy` (<see cref="EddyBinary"/>) as a child process, with its output captured. Started through
/// env(1), which execs in place (same pid) and restores SIGINT's default disposition: a shell that starts the test run
/// in the background ignores SIGINT for its children, and eddy (rightly) keeps an inherited ignore. Signals are sent
/// with kill(1), since P/Invoke lives in native/ only.
/// </summary>
public sealed partial class EddyProcess : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    /// <summary>Runs eddy with <paramref name="args"/> (a command first: `start`, `--version`) and returns at once.</summary>
    public EddyProcess(params string[] args)
        : this(args, environment: null, workingDirectory: null)
    {
    }

    /// <param name="args">eddy's arguments, a command first.</param>
    /// <param name="environment">Variables to set for eddy (on top of this process's).</param>
    /// <param name="workingDirectory">eddy's working directory; default: this process's.</param>
    /// <param name="launcher">A command that runs eddy for us, with its arguments (`ip netns exec NAME`); it must exec
    /// in place so that signals reach eddy. Default: none.</param>
    public EddyProcess(string[] args, IReadOnlyDictionary<string, string>? environment, string? workingDirectory, string[]? launcher = null)
    {
        var info = new ProcessStartInfo(launcher?[0] ?? "env") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (launcher is not null)
        {
            foreach (string a in launcher.Skip(1))
            {
                info.ArgumentList.Add(a);
            }
            info.ArgumentList.Add("env");
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }
        info.ArgumentList.Add("--default-signal=INT");
        info.ArgumentList.Add(EddyBinary.Path);
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The Kafka listener's address and port, once <see cref="StartAsync"/> has seen eddy say where it listens.</summary>
    public string Address { get; private set; } = "127.0.0.1";

    public int Port { get; private set; }
    public string AdvertisedHost { get; private set; } = "";
    public int AdvertisedPort { get; private set; }
    public string Bootstrap => $"{Address}:{Port}";
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Everything eddy has written so far, stdout and stderr interleaved as read.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    [GeneratedRegex(@"kafka: listening on ([^:\s]+):(\d+), advertised as ([^:\s]+):(\d+)")]
    private static partial Regex Listening();

    [GeneratedRegex(@"admin: listening on ([^:\s]+):(\d+)")]
    private static partial Regex AdminListening();

    /// <summary>The admin API's port, once <see cref="StartAsync"/> has seen eddy say where it listens.</summary>
    public int AdminPort { get; private set; }

    /// <summary>
    /// Runs `eddy start` with <paramref name="args"/> (and --rpc-addr 127.0.0.1:0 unless they name one) and waits until
    /// it listens. Starting again with the same
    /// --data-dir (and --kafka-addr on the old <see cref="Port"/>, for clients that must find it) is a restart.
    /// </summary>
    public static Task<EddyProcess> StartAsync(params string[] args) => StartAsync(args, launcher: null);

    /// <summary>As <see cref="StartAsync(string[])"/>, through <paramref name="launcher"/> (see the constructor).</summary>
    public static async Task<EddyProcess> StartAsync(string[] args, string[]? launcher)
    {
        // Nodes of different tests run side by side: unless a test places them, RPC and the admin API listen on
        // ephemeral ports.
        string[] rpc = args.Any(a => a.StartsWith("--rpc-addr", StringComparison.Ordinal)) ? [] : ["--rpc-addr", "127.0.0.1:0"];
        string[] admin = args.Any(a => a.StartsWith("--admin-addr", StringComparison.Ordinal)) ? [] : ["--admin-addr", "127.0.0.1:0"];
        var eddy = new EddyProcess(["start", .. rpc, .. admin, .. args], environment: null, workingDirectory: null, launcher);
        var deadline = DateTime.UtcNow + Timeout;
        Match match;
        while (!(match = Listening().Match(eddy.Output)).Success)
        {
            if (eddy.HasExited || DateTime.UtcNow > deadline)
            {
                string output = eddy.Output;
                eddy.Dispose();
                Assert.Fail($"eddy did not say where it listens:\n{output}");
            }
            await Task.Delay(20);
        }
        eddy.Address = match.Groups[1].Value;
        eddy.Port = int.Parse(match.Groups[2].Value);
        eddy.AdvertisedHost = match.Groups[3].Value;
        eddy.AdvertisedPort = int.Parse(match.Groups[4].Value);
        if (AdminListening().Match(eddy.Output) is { Success: true } adminLine)
        {
            eddy.AdminPort = int.Parse(adminLine.Groups[2].Value);
        }
        return eddy;
    }

    /// <summary>Waits until eddy has printed <paramref name="text"/>; fails when it exits or the time is up first.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline || HasExited)
            {
                Assert.Fail($"eddy did not print '{text}'; output so far:\n{Output}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Opens a connection to the admin API, sends half a request and resets the connection: something the
    /// node logs at debug level only (http: connection from ... ended), to see which log level it runs with.</summary>
    public async Task ResetAdminConnectionMidRequestAsync()
    {
        // A bare socket: TcpClient shuts the connection down (a FIN) before it closes, which is no reset.
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream,
            System.Net.Sockets.ProtocolType.Tcp) { LingerState = new System.Net.Sockets.LingerOption(true, 0) };
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, AdminPort);
        await socket.SendAsync("GET /v1/status/ready HTTP/1.1\r\n"u8.ToArray());
        await Task.Delay(100); // the server waits for the rest of the head
        socket.Close();
    }

    /// <summary>Sends a signal (2 = SIGINT, 9 = SIGKILL, 15 = SIGTERM) with kill(1).</summary>
    public void Signal(int signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {_process.Id}");
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    /// <summary>Sends <paramref name="signal"/> (SIGINT unless named), then waits for a clean exit (code 0).</summary>
    public async Task StopAsync(int signal = 2)
    {
        Signal(signal);
        int code = await WaitForExitAsync();
        Assert.True(code == 0, $"eddy exited with {code}:\n{Output}");
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
