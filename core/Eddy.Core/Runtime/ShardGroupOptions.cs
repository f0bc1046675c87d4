using Eddy.Runtime.IO;

namespace Eddy.Runtime;

/// <summary>How a node's shards are started.</summary>
public sealed class ShardGroupOptions
{
    /// <summary>Environment variable that forces an I/O backend ("io_uring" or "epoll") when none is given.</summary>
    public const string BackendVariable = "EDDY_IO_BACKEND";

    /// <summary>Number of shards. Default: one per CPU this process may run on.</summary>
    public int ShardCount { get; set; } = Native.Affinity.AllowedCpus().Length;

    /// <summary>I/O backend. Default: <see cref="IoBackendKind.Auto"/> (io_uring, epoll when refused), or what
    /// <see cref="BackendVariable"/> says.</summary>
    public IoBackendKind Backend { get; set; } = BackendFromEnvironment();

    /// <summary>Pin shard i to the i-th allowed CPU (modulo their count). Default: true.</summary>
    public bool PinThreads { get; set; } = true;

    /// <summary>Shard i runs on allowed CPU (i + CpuOffset) modulo their count; lets two groups share a machine
    /// without sharing cores. Default: 0.</summary>
    public int CpuOffset { get; set; }

    /// <summary>Capacity of each cross-shard SPSC queue. Default: 1024.</summary>
    public int SmpQueueCapacity { get; set; } = 1024;

    /// <summary>The shards' clock. Default: the machine's monotonic clock.</summary>
    public IClock Clock { get; set; } = MonotonicClock.Instance;

    /// <summary>Where exceptions that escape a posted callback go. Default: one line on stderr.</summary>
    public Action<Exception>? OnUnhandledException { get; set; }

    public static IoBackendKind ParseBackend(string value) => value.Trim().ToLowerInvariant() switch
    {
        "io_uring" or "iouring" or "uring" => IoBackendKind.IoUring,
        "epoll" => IoBackendKind.Epoll,
        "auto" or "" => IoBackendKind.Auto,
        _ => throw new ArgumentException($"unknown I/O backend '{value}' (expected io_uring, epoll or auto)"),
    };

    public static IoBackendKind BackendFromEnvironment()
    {
        string? value = Environment.GetEnvironmentVariable(BackendVariable);
        return value is null ? IoBackendKind.Auto : ParseBackend(value);
    }
}
