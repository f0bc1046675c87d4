using Eddy.Observability;
using Eddy.Runtime;
using Eddy.Runtime.IO;

namespace Eddy.Embedded;

/// <summary>How an <see cref="EddyNode"/> runs; every default suits a test.</summary>
public sealed record EddyNodeOptions
{
    /// <summary>Where the node keeps its data. Default: null, a new temporary directory that disposing removes (a
    /// directory given here is left for the next start, which finds every topic and record as they were).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The loopback port Kafka clients connect to. Default: 0, a free port (see <see cref="EddyNode.Port"/>).</summary>
    public int Port { get; init; }

    /// <summary>Shards (threads), each owning its partitions. Default: 1.</summary>
    public int Shards { get; init; } = 1;

    /// <summary>Whether a produce or metadata request for an unknown topic creates it. Default: true.</summary>
    public bool AutoCreateTopics { get; init; } = true;

    /// <summary>Partitions of a topic created without a count. Default: 1.</summary>
    public int DefaultPartitions { get; init; } = 1;

    /// <summary>Partitions of `__consumer_offsets`. Default: 1 (a test's groups need no more, and each costs a log).</summary>
    public int OffsetsPartitions { get; init; } = 1;

    /// <summary>The least severe log lines the node writes (to stderr). Default: Warn, so a test's output stays its own.
    /// The log is the process's: the last node started sets it.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Warn;

    /// <summary>io_uring, epoll, or Auto (io_uring where the kernel allows it). Default: what EDDY_IO_BACKEND says,
    /// else Auto.</summary>
    public IoBackendKind IoBackend { get; init; } = ShardGroupOptions.BackendFromEnvironment();
}
