using Eddy.Runtime;

namespace Eddy.Observability;

public enum LogLevel
{
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// <summary>How log lines are written: text for people, JSON for log collectors.</summary>
public enum LogFormat
{
    /// <summary><c>2026-12-07T20:29:00.851Z INFO  shard=0 kafka: listening on ...</c></summary>
    Text,

    /// <summary><c>{"time":"2026-12-07T20:29:00.851Z","level":"info","shard":0,"subsystem":"kafka","message":"listening on ..."}</c>,
    /// shard null off the shards.</summary>
    Json,
}

/// <summary>
/// The node's one structured log stream: one line per event with time, level, shard and subsystem, as text or JSON
/// (<see cref="Format"/>). Lines go to stderr, which the service manager collects.
/// </summary>
public static class Log
{
    public static LogLevel MinimumLevel { get; set; } = LogLevel.Info;

    /// <summary>The node's own log_level setting: what <see cref="MinimumLevel"/> is unless the cluster's config sets one.</summary>
    public static LogLevel NodeLevel { get; set; } = LogLevel.Info;

    /// <summary>Set once at start, before the first line.</summary>
    public static LogFormat Format { get; set; } = LogFormat.Text;

    private static readonly System.Text.Json.JsonWriterOptions JsonOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Levels of single subsystems over <see cref="MinimumLevel"/> (the cluster's log_level_subsystems), by
    /// subsystem name; replaced whole, read by any thread.</summary>
    public static System.Collections.Frozen.FrozenDictionary<string, LogLevel> SubsystemLevels { get; set; } =
        System.Collections.Frozen.FrozenDictionary<string, LogLevel>.Empty;

    public static bool IsEnabled(LogLevel level, string subsystem)
        => level >= (SubsystemLevels.TryGetValue(subsystem, out var own) ? own : MinimumLevel);

    public static void Write(LogLevel level, string subsystem, string message)
    {
        if (!IsEnabled(level, subsystem))
        {
            return;
        }
        var shard = Shard.Current;
        string time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        if (Format == LogFormat.Json)
        {
            Console.Error.WriteLine(JsonLine(time, level, shard?.Id, subsystem, message));
            return;
        }
        Console.Error.WriteLine($"{time} {Name(level)} shard={shard?.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} {subsystem}: {message}");
    }

    private static string JsonLine(string time, LogLevel level, int? shard, string subsystem, string message)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128 + message.Length);
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("time", time);
            writer.WriteString("level", Name(level).Trim().ToLowerInvariant());
            if (shard is int id)
            {
                writer.WriteNumber("shard", id);
            }
            else
            {
                writer.WriteNull("shard");
            }
            writer.WriteString("subsystem", subsystem);
            writer.WriteString("message", message);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static LogFormat ParseFormat(string value) => value.Trim().ToLowerInvariant() switch
    {
        "text" => LogFormat.Text,
        "json" => LogFormat.Json,
        _ => throw new ArgumentException($"unknown log format '{value}' (expected text or json)"),
    };

    public static void Info(string subsystem, string message) => Write(LogLevel.Info, subsystem, message);

    public static void Warn(string subsystem, string message) => Write(LogLevel.Warn, subsystem, message);

    public static void Error(string subsystem, string message) => Write(LogLevel.Error, subsystem, message);

    public static LogLevel ParseLevel(string value) => value.Trim().ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Info,
        "warn" or "warning" => LogLevel.Warn,
        "error" => LogLevel.Error,
        _ => throw new ArgumentException($"unknown log level '{value}' (expected trace, debug, info, warn or error)"),
    };

    private static string Name(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRACE",
        LogLevel.Debug => "DEBUG",
        LogLevel.Info => "INFO ",
        LogLevel.Warn => "WARN ",
        _ => "ERROR",
    };
}
