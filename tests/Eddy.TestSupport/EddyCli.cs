using System.Diagnostics;

namespace Eddy.TestSupport;

/// <summary>
/// One run of the published `eddy` as a client (`eddy bench produce`, `eddy topic create`, ...; docs/cli.md) to its
/// end: exit code, stdout, stderr, and the key=value pairs of stdout's last line, where `eddy bench` prints its
/// summary. A run past <see cref="Timeout"/> is killed and fails the test.
/// </summary>
public sealed record EddyCli(int ExitCode, string Output, string Error, IReadOnlyDictionary<string, string> Summary)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    /// <summary>A number from the summary line; a missing key fails with the whole output.</summary>
    public long this[string key] => long.Parse(Summary.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"no '{key}' in:\n{this}"));

    public override string ToString() => $"eddy exited {ExitCode}\n{Output}{Error}";

    /// <summary>Runs `eddy ARGS` with <paramref name="stdin"/> as its input.</summary>
    public static Task<EddyCli> RunWithInputAsync(string? stdin, params string[] args) => RunAsync(stdin, new Dictionary<string, string>(), args);

    /// <summary>Runs `eddy ARGS` with <paramref name="environment"/> added to this process's variables.</summary>
    public static Task<EddyCli> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] args) => RunAsync(null, environment, args);

    private static async Task<EddyCli> RunAsync(string? stdin, IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var info = new ProcessStartInfo(EddyBinary.Path) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync();
            Assert.Fail($"eddy {string.Join(' ', args)} did not finish in {Timeout}:\n{await stdout}{await stderr}");
        }
        string output = await stdout;
        string last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        var summary = last.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
        return new EddyCli(process.ExitCode, output, await stderr, summary);
    }

    /// <summary>Runs `eddy ARGS` with no input.</summary>
    public static Task<EddyCli> RunAsync(params string[] args) => RunWithInputAsync(null, args);
}
