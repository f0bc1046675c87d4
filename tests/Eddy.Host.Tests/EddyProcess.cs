using System.Diagnostics;
using System.Text;

namespace Eddy.Host.Tests;

/// <summary>Runs the built `eddy` (eddy.dll beside the tests) as a child process and collects its output.</summary>
internal sealed class EddyProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    public EddyProcess(params string[] args)
        : this(args, environment: null, workingDirectory: null)
    {
    }

    /// <param name="environment">Variables to set for eddy (on top of this process's).</param>
    /// <param name="workingDirectory">eddy's working directory; default: this process's.</param>
    public EddyProcess(string[] args, IReadOnlyDictionary<string, string>? environment, string? workingDirectory)
    {
        // env execs in place (same pid) and restores SIGINT's default disposition: a shell that starts the test
        // run in the background ignores SIGINT for its children, and eddy (rightly) keeps an inherited ignore.
        var info = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }
        info.ArgumentList.Add("--default-signal=INT");
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "eddy.dll"));
        foreach (var a in args)
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

    public int Id => _process.Id;

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

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline || _process.HasExited)
            {
                throw new TimeoutException($"eddy did not print '{text}'; output so far:\n{Output}");
            }
            await Task.Delay(20);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // flushes the redirected streams
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.Dispose();
    }
}
