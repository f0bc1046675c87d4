namespace Eddy.Runtime;

/// <summary>
/// Monotonic time for a shard. Injected so a deterministic simulator can drive time instead of the kernel.
/// </summary>
public interface IClock
{
    /// <summary>Nanoseconds since an arbitrary fixed point; never goes backwards.</summary>
    long NowNanos { get; }
}

/// <summary>The machine's monotonic clock (Stopwatch, CLOCK_MONOTONIC on Linux).</summary>
public sealed class MonotonicClock : IClock
{
    public static readonly MonotonicClock Instance = new();

    private static readonly double NanosPerTick = 1_000_000_000.0 / System.Diagnostics.Stopwatch.Frequency;

    public long NowNanos => (long)(System.Diagnostics.Stopwatch.GetTimestamp() * NanosPerTick);
}

/// <summary>A clock that moves only when told to: for tests and simulation.</summary>
public sealed class ManualClock : IClock
{
    private long _now;

    public long NowNanos => Volatile.Read(ref _now);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _now, by.Ticks * 100);
}
