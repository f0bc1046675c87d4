using System.Diagnostics;

namespace Eddy.TestSupport;

/// <summary>
/// The published NativeAOT `eddy`, the file users run, for the tests that run it as a process. EDDY names it
/// (CI publishes before the tests and sets it); when it is unset, the first test that asks publishes host/Eddy.Host
/// into artifacts/test-eddy under the repository, and later runs reuse that binary while it is newer than every source
/// it is built from. Test projects run in parallel, so the check and the publish happen under a file lock, and the
/// publish builds in artifacts/test-eddy-build: `dotnet test` may still be building other projects' bin and obj.
/// </summary>
public static class EddyBinary
{
    // Not EDDY_*: those are node settings, and eddy (and any test that loads settings from
    // this process's environment) refuses one it does not know.
    public const string Variable = "EDDY";

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(20);

    // What the binary is built from, besides the Directory.* files at the top.
    private static readonly string[] SourceFolders = ["native", "core", "client", "host"];

    // Lazy keeps a failure too: every test that needs the binary fails with the publish's message, and the publish is
    // not tried again for each of them.
    private static readonly Lazy<string> s_path = new(Locate);

    /// <summary>The binary's full path; throws, saying why, when there is none.</summary>
    public static string Path => s_path.Value;

    private static string Locate()
    {
        string? named = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrEmpty(named))
        {
            if (!File.Exists(named))
            {
                throw new InvalidOperationException(
                    $"{Variable}={named}: no such file. Publish it (dotnet publish host/Eddy.Host -c Release -r linux-x64 -o DIR) "
                    + $"or unset {Variable} to let the tests publish one.");
            }
            return System.IO.Path.GetFullPath(named);
        }
        string repository = RepositoryRoot();
        string folder = System.IO.Path.Combine(repository, "artifacts", "test-eddy");
        string binary = System.IO.Path.Combine(folder, "eddy");
        using (Lock(folder + ".lock", PublishTimeout))
        {
            if (!IsNewerThanSources(binary, repository))
            {
                Publish(repository, folder, folder + "-build", binary);
            }
        }
        return binary;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Core.sln")) && Directory.Exists(System.IO.Path.Combine(dir.FullName, "host", "Eddy.Host")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException(
            $"no repository (Core.sln, host/Eddy.Host) above {AppContext.BaseDirectory} to publish eddy from; set {Variable} to a published eddy.");
    }

    private static bool IsNewerThanSources(string binary, string repository)
    {
        if (!File.Exists(binary))
        {
            return false;
        }
        var built = File.GetLastWriteTimeUtc(binary);
        var sources = SourceFolders.SelectMany(d => SourceFiles(System.IO.Path.Combine(repository, d)))
            .Concat(Directory.EnumerateFiles(repository, "Directory.*"))
            .Append(System.IO.Path.Combine(repository, "BannedSymbols.txt"));
        return sources.All(f => !File.Exists(f) || File.GetLastWriteTimeUtc(f) < built);
    }

    // Everything under a project folder but its build outputs.
    private static IEnumerable<string> SourceFiles(string folder)
    {
        foreach (string file in Directory.EnumerateFiles(folder))
        {
            yield return file;
        }
        foreach (string dir in Directory.EnumerateDirectories(folder))
        {
            string name = System.IO.Path.GetFileName(dir);
            if (name is not ("bin" or "obj"))
            {
                foreach (string file in SourceFiles(dir))
                {
                    yield return file;
                }
            }
        }
    }

    private static void Publish(string repository, string folder, string build, string binary)
    {
        // A binary left by a publish that failed or was cut short must not pass for a fresh one next time. On a fresh
        // clone the folder is not there yet (File.Delete throws for a missing folder, not for a missing file).
        Directory.CreateDirectory(folder);
        File.Delete(binary);
        var info = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        string[] args = ["publish", "host/Eddy.Host/Eddy.Host.csproj", "-c", "Release", "-r", "linux-x64", "-o", folder,
            "--artifacts-path", build, "--disable-build-servers", "-nologo"];
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }
        // The test host runs with the variables MSBuild set for the test run's build; a build of its own must not
        // inherit them.
        foreach (string name in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }
        using var publish = Process.Start(info)!;
        var output = publish.StandardOutput.ReadToEndAsync();
        var errors = publish.StandardError.ReadToEndAsync();
        if (!publish.WaitForExit(PublishTimeout))
        {
            publish.Kill(entireProcessTree: true);
        }
        publish.WaitForExit();
        string log = output.Result + errors.Result;
        File.WriteAllText(folder + ".log", log);
        if (publish.ExitCode != 0 || !File.Exists(binary))
        {
            string tail = string.Join('\n', log.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(20));
            throw new InvalidOperationException(
                $"publishing host/Eddy.Host for the process tests failed (exit code {publish.ExitCode}; NativeAOT needs gcc or clang "
                + $"for the link; whole log in {folder}.log). Set {Variable} to a published eddy to use that instead.\n{tail}");
        }
    }

    // The dotnet that runs the tests, so the publish uses the same SDK.
    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }
        string? self = Environment.ProcessPath;
        return self is not null && System.IO.Path.GetFileName(self) == "dotnet" ? self : "dotnet";
    }

    // FileShare.None takes an exclusive flock on Linux; another test process holding it makes the open fail.
    private static FileStream Lock(string file, TimeSpan wait)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            try
            {
                return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }
}
