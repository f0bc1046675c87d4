using Eddy.Observability;

namespace Eddy.Runtime.IO;

/// <summary>
/// What one shard's I/O did since it started: operations started and completed, by kind, and how long each fsync took
/// (an fsync or fdatasync of its own, or the one linked after a write). Written by the shard's thread only; read by a
/// scrape that runs on the same thread.
/// </summary>
public sealed class IoStats
{
    /// <summary>The kinds' names as metrics label them, by <see cref="IoKind"/>.</summary>
    public static readonly string[] KindNames = ["read", "write", "sync", "datasync", "allocate", "send", "receive", "accept", "connect"];

    public long[] Started { get; } = new long[KindNames.Length];
    public long[] Completed { get; } = new long[KindNames.Length];
    public LatencyHistogram SyncLatency { get; } = new();

    /// <summary>A copy, for a scrape to take off the shard.</summary>
    public IoStats Copy()
    {
        var copy = new IoStats();
        Started.CopyTo(copy.Started, 0);
        Completed.CopyTo(copy.Completed, 0);
        copy.SyncLatency.Add(SyncLatency);
        return copy;
    }
}
