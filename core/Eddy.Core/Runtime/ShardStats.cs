using Eddy.Runtime.IO;

namespace Eddy.Runtime;

/// <summary>
/// What one shard's reactor did since it started: loop turns, tasks run, time asleep (waiting for I/O or a timer with
/// nothing to run), its busy share over the last whole second, and what waits in its cross-shard queues. Written by
/// the shard's thread only; <see cref="Shard.Snapshot"/> copies it there for a scrape.
/// </summary>
public sealed class ShardStats
{
    /// <summary>The window <see cref="Utilization"/> covers: one second.</summary>
    public const long WindowNanos = 1_000_000_000;

    public long LoopTurns { get; internal set; }
    public long TasksRun { get; internal set; }
    public long SleepNanos { get; internal set; }

    /// <summary>Nanoseconds since the shard started.</summary>
    public long UptimeNanos { get; internal set; }

    /// <summary>The busy share of the last whole window (0 to 1): time not asleep over time passed.</summary>
    public double Utilization { get; internal set; }

    /// <summary>Work posted from other threads, and messages in the SPSC queues from other shards, waiting to run here.</summary>
    public int IncomingQueued { get; internal set; }

    /// <summary>Messages to other shards waiting for room in a full SPSC queue.</summary>
    public int OutboxWaiting { get; internal set; }

    /// <summary>The shard's I/O, copied with the rest.</summary>
    public IoStats Io { get; internal set; } = new();

    internal long StartedNanos;
    internal long WindowStartNanos;
    internal long WindowSleepNanos;

    /// <summary>Closes the utilization window once a whole one has passed; called each loop turn with the time.</summary>
    internal void Tick(long nowNanos)
    {
        long passed = nowNanos - WindowStartNanos;
        if (passed >= WindowNanos)
        {
            long slept = SleepNanos - WindowSleepNanos;
            Utilization = Math.Clamp(1 - (double)slept / passed, 0, 1);
            WindowStartNanos = nowNanos;
            WindowSleepNanos = SleepNanos;
        }
    }

    internal ShardStats Copy() => new()
    {
        LoopTurns = LoopTurns, TasksRun = TasksRun, SleepNanos = SleepNanos, UptimeNanos = UptimeNanos, Utilization = Utilization,
        IncomingQueued = IncomingQueued, OutboxWaiting = OutboxWaiting, Io = Io.Copy(),
    };
}
