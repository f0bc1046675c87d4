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

/// <summary>
/// The node's one structured log stream: one line per event with time, level, shard and subsystem.
/// Lines go to stderr, which the service manager collects.
/// </summary>
public static class Log
{
    public static LogLevel MinimumLevel { get; set; } = LogLevel.Info;

    public static bool IsEnabled(LogLevel level) => level >= MinimumLevel;

    public static void Write(LogLevel level, string subsystem, string message)
    {
        if (!IsEnabled(level))
        {
            return;
        }
        string shard = Shard.Current is { } s ? s.Id.ToString() : "-";
        Console.Error.WriteLine($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {Name(level)} shard={shard} {subsystem}: {message}");
    }

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
