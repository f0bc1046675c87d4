using System.Text.Json;

namespace Eddy.Host.Tests;

/// <summary>`--log-format json`: every line a node writes, from start to stop, is one JSON object with time, level,
/// shard (null off the shards), subsystem and message; and a first start stays a handful of lines.</summary>
public sealed class JsonLogTests : IDisposable
{
    private static readonly string[] Levels = ["trace", "debug", "info", "warn", "error"];
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-jsonlog-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    [Fact]
    public async Task EveryLineIsAJsonObjectWithTheFieldsOfATextLine()
    {
        using var eddy = new EddyProcess("start", "--smp", "2", "--data-dir", _data, "--kafka-addr", "127.0.0.1:0", "--rpc-addr", "127.0.0.1:0",
            "--admin-addr", "127.0.0.1:0", "--log-format", "json");
        await eddy.WaitForOutputAsync("\"subsystem\":\"node\",\"message\":\"eddy ");
        await eddy.StopAsync(15);
        var lines = eddy.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length >= 3, $"a start and a stop say something:\n{eddy.Output}");
        // A first start (the offsets topic created, its empty partitions loaded) and a stop, not a line per partition.
        Assert.True(lines.Length <= 16, $"{lines.Length} lines for a start and a stop:\n{eddy.Output}");
        foreach (string line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            Assert.True(DateTime.TryParse(root.GetProperty("time").GetString(), out _), line);
            Assert.Contains(root.GetProperty("level").GetString(), Levels);
            Assert.True(root.GetProperty("shard").ValueKind is JsonValueKind.Null or JsonValueKind.Number, line);
            Assert.False(string.IsNullOrEmpty(root.GetProperty("subsystem").GetString()), line);
            Assert.False(string.IsNullOrEmpty(root.GetProperty("message").GetString()), line);
        }
        Assert.Contains(lines, l => l.Contains("\"message\":\"stopped\"", StringComparison.Ordinal));
    }
}
