using System.Diagnostics;

namespace Eddy.TestSupport;

/// <summary>Runs a program to its end (kcat, python3, ip, eddy's client commands) and returns its exit code, its
/// standard output and its standard error; one that runs past its timeout (two minutes unless said) is killed, so no
/// client outlives the test that gave up on it.</summary>
public static class ChildProcess
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    public static Task<(int ExitCode, string Output, string Error)> RunAsync(string program, string? stdin, params string[] args) =>
        RunAsync(program, stdin, environment: null, DefaultTimeout, args);

    /// <summary>The same with <paramref name="environment"/> added to this process's variables; a run past
    /// <paramref name="timeout"/> is killed and throws <see cref="OperationCanceledException"/>.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, string? stdin,
        IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        using var process = Process.Start(info)!;
        // Read before writing: a program that answers while it reads would otherwise fill its pipe and wait on ours.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }
        return (process.ExitCode, await output, await error);
    }
}
