using System.Diagnostics;

namespace Eddy.TestSupport;

/// <summary>Runs a program to its end (kcat, python3, ip) and returns its exit code, its standard output and its
/// standard error; one that runs past two minutes is killed, so no client outlives the test that gave up on it.</summary>
public static class ChildProcess
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, string? stdin, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
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
