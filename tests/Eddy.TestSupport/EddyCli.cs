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

    /// <summary>Runs `eddy ARGS` with no input.</summary>
    public static Task<EddyCli> RunAsync(params string[] args) => RunAsync(null, null, args);

    /// <summary>Runs `eddy ARGS` with <paramref name="stdin"/> as its input.</summary>
    public static Task<EddyCli> RunWithInputAsync(string? stdin, params string[] args) => RunAsync(stdin, null, args);

    /// <summary>Runs `eddy ARGS` with <paramref name="environment"/> added to this process's variables.</summary>
    public static Task<EddyCli> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] args) => RunAsync(null, environment, args);

    private static async Task<EddyCli> RunAsync(string? stdin, IReadOnlyDictionary<string, string>? environment, string[] args)
    {
        (int code, string output, string error) = (0, "", "");
        try
        {
            (code, output, error) = await ChildProcess.RunAsync(EddyBinary.Path, stdin ?? "", environment, Timeout, args);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"eddy {string.Join(' ', args)} did not finish in {Timeout}");
        }
        string last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        var summary = last.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
        return new EddyCli(code, output, error, summary);
    }
}
