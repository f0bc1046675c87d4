using System.Diagnostics;

namespace Eddy.Groups.Tests;

/// <summary>Debian's kafka-python (python3-kafka, which .ci/run installs) commits, fetches, lists and describes groups.</summary>
public sealed class KafkaPythonTests(GroupBrokerFixture node) : IClassFixture<GroupBrokerFixture>
{
    [Fact]
    public async Task KafkaPythonCommitsListsAndDescribes()
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), "needs Debian's python3 with python3-kafka (.ci/run installs it)");
        string script = Path.Combine(AppContext.BaseDirectory, "Python", "kafka_python_groups.py");
        var start = new ProcessStartInfo(python, [script, node.Bootstrap, node.GroupOnShard("python", 1)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"kafka-python exited with {process.ExitCode}:\n{await output}\n{await errors}");
        Assert.Equal("ok", (await output).Trim());
    }
}
