using System.Diagnostics;
using System.Text;

namespace Eddy.Broker.Tests;

/// <summary>
/// `kload`, a load generator and checker built on Debian's librdkafka (built by `../shared/tools/build-kload`), run
/// as a child process. Its last output line is a summary of key=value pairs; its exit code is 0 only when every
/// message was delivered (produce) or every expected message was read back once and intact (consume).
/// </summary>
/// <remarks>
/// Where it comes from: the path in <c>KLOAD</c>. .ci/run builds kload and always sets the variable, so in CI a
/// missing or unbuilt kload is a failed test, never a skipped one. Locally, leave the variable unset and the test
/// fails with a message saying how to build it; set <c>KLOAD=skip</c> to skip the kload tests on purpose (they
/// are then reported as skipped, with that reason). The name has no EDDY_ prefix because `eddy start` refuses
/// EDDY_* variables that are not node settings, and the nodes these tests start inherit the environment.
/// </remarks>
public sealed record Kload(int ExitCode, string Output, IReadOnlyDictionary<string, string> Summary)
{
    public const string Variable = "KLOAD";
    public const string OptOut = "skip";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    /// <summary>The kload executable named by KLOAD; fails the test when it is unset or names no file.</summary>
    public static string Locate()
    {
        string? path = Environment.GetEnvironmentVariable(Variable);
        Assert.False(string.IsNullOrEmpty(path),
            $"{Variable} is not set. Build kload (apt-get install -y librdkafka-dev gcc; ../shared/tools/build-kload DIR) and set " +
            $"{Variable}=DIR/kload, or set {Variable}={OptOut} to skip the kload tests locally. .ci/run sets it.");
        Assert.True(File.Exists(path), $"{Variable}={path}: no such file (did build-kload fail? see .ci/out/kload.log in CI)");
        return path!;
    }

    public long this[string key] => long.Parse(Summary.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"no '{key}' in: {Output}"));

    /// <summary>Starts kload with <paramref name="args"/>; the task completes when it exits.</summary>
    public static async Task<Kload> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Locate()) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync();
            Assert.Fail($"kload {string.Join(' ', args)} did not finish in {Timeout}:\n{await stdout}{await stderr}");
        }
        string output = await stdout;
        string last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        var summary = last.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
        return new Kload(process.ExitCode, new StringBuilder(output).Append(await stderr).ToString(), summary);
    }
}

/// <summary>A fact that runs kload: skipped only when KLOAD says <c>skip</c>; otherwise
/// <see cref="Kload.Locate"/> fails the test where kload cannot be found.</summary>
public sealed class KloadTheoryAttribute : TheoryAttribute
{
    public KloadTheoryAttribute()
    {
        if (Environment.GetEnvironmentVariable(Kload.Variable) == Kload.OptOut)
        {
            Skip = $"{Kload.Variable}={Kload.OptOut}: kload tests skipped on request";
        }
    }
}
