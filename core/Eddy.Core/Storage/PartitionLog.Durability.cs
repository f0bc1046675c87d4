using System.Runtime.CompilerServices;
using Eddy.Native;
using Eddy.Observability;

namespace Eddy.Storage;

// Durability by group commit. Appends write inside the gate and move the log end at once; each then waits outside
// the gate for an fdatasync that started after its write completed. At most one fdatasync runs at a time: when it
// ends, every append written before it started is durable, and one new fdatasync covers all that were written
// meanwhile. A thousand small appends a second thus cost a few fdatasyncs each, not one each in a queue.
public sealed partial class PartitionLog
{
    /// <summary>
    /// The most bytes the active segment may hold past what is fdatasynced, while appends wait for their group
    /// commit. The disk may persist unsynced writes in any order, so after a crash damage followed by valid batches
    /// within this many bytes of the end is a torn tail, not corruption (<see cref="LogRecovery"/>). An append that
    /// would go past it waits until everything before it is durable. 4 MiB: at 0.1–5 ms per fdatasync that is
    /// 0.8–40 GB/s per partition, far above what one partition takes.
    /// </summary>
    public const int UnsyncedLimitBytes = 4 << 20;

    private readonly DurabilityQueue _durabilityWaiters = new();
    private readonly Action _onSyncDone;
    private ValueTask _sync;
    private bool _syncing;
    private long _syncTarget;
    private long _syncTargetBytes;

    /// <summary>Bytes of the active segment that fdatasync has covered.</summary>
    private long _durableBytes;

    /// <summary>Bytes of the active segment written but not yet covered by a completed fdatasync.</summary>
    private long UnsyncedBytes => Active.Size - _durableBytes;

    /// <summary>Completes once every offset below <paramref name="offset"/> is durable (at once if it already is).
    /// Throws <see cref="LogFailedException"/> when the fdatasync that would cover it fails, and from then on.</summary>
    public ValueTask WaitDurableAsync(long offset)
    {
        _shard.AssertCurrent();
        if (offset <= DurableOffset)
        {
            return ValueTask.CompletedTask;
        }
        ThrowIfClosed();
        if (_failure is not null)
        {
            return ValueTask.FromException(Stopped());
        }
        if (offset > LogEndOffset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} is past the log end {LogEndOffset}");
        }
        var wait = _durabilityWaiters.Add(offset);
        StartSync();
        return wait;
    }

    /// <summary>Starts an fdatasync covering every completed write, unless one is running or nothing waits.</summary>
    private void StartSyncIfWaited()
    {
        if (!_durabilityWaiters.IsEmpty)
        {
            StartSync();
        }
    }

    /// <summary>Starts an fdatasync covering every completed write, unless one is running or all is durable.</summary>
    private void StartSync()
    {
        if (_failure is not null)
        {
            // A write failed since these were written (or an fdatasync did): none of them can become durable now.
            _durabilityWaiters.FailAll(Stopped());
            return;
        }
        if (_syncing || DurableOffset >= LogEndOffset)
        {
            return;
        }
        _syncing = true;
        // Roll and truncation wait for durability before the active segment changes: it is this one throughout.
        _syncTarget = LogEndOffset;
        _syncTargetBytes = Active.Size;
        // Kept in a field and consumed exactly once, by OnSyncDone: a callback instead of an await, so that starting
        // a group commit allocates no state machine.
#pragma warning disable CA2012
        try
        {
            _sync = Active.File.FlushDataAsync();
        }
        catch (Exception e)
        {
            _sync = ValueTask.FromException(e);
        }
#pragma warning restore CA2012
        // Resumed inline where the fdatasync completes (this shard), not posted through its context.
        var awaiter = _sync.ConfigureAwait(false).GetAwaiter();
        if (awaiter.IsCompleted)
        {
            OnSyncDone();
        }
        else
        {
            awaiter.UnsafeOnCompleted(_onSyncDone);
        }
    }

    private void OnSyncDone()
    {
        var sync = _sync;
        _sync = default;
        _syncing = false;
        try
        {
            sync.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            // Any fdatasync failure is fail-stop, ENOSPC included: the kernel may have dropped what it could not write.
            _failure ??= e;
            Log.Error(Subsystem, $"{Directory}: fdatasync failed ({e.Message}); the log is stopped and offsets from {DurableOffset} are not durable");
            _durabilityWaiters.FailAll(Stopped());
            return;
        }
        DurableOffset = _syncTarget;
        _durableBytes = _syncTargetBytes;
        _durabilityWaiters.CompleteUpTo(DurableOffset);
        StartSyncIfWaited(); // the appends written while this fdatasync ran
    }

    private LogFailedException Stopped()
        => new($"{Directory}: the log stopped after a failed write or fdatasync and accepts no more writes", _failure);

    /// <summary>Waits until everything written is durable; inside the gate, nothing is written meanwhile.</summary>
    private ValueTask FlushCoreAsync() => WaitDurableAsync(LogEndOffset);

    /// <summary>Before an append of <paramref name="bytes"/>: waits for the group commit when the unsynced part of
    /// the active segment would grow past <see cref="UnsyncedLimitBytes"/> (called inside the gate).</summary>
    private ValueTask KeepUnsyncedWithinLimitAsync(int bytes)
        => UnsyncedBytes > 0 && UnsyncedBytes + bytes > UnsyncedLimitBytes ? FlushCoreAsync() : ValueTask.CompletedTask;

    private async ValueTask AfterCachedWriteAsync()
    {
        if (UnsyncedBytes >= Options.FlushBytes)
        {
            await FlushCoreAsync();
            return;
        }
        if (!_flushTimerArmed)
        {
            _flushTimerArmed = true;
            _shard.Schedule(_shard.Clock.NowNanos + Options.FlushInterval.Ticks * 100, static s => ((PartitionLog)s!).OnFlushTimer(), this);
        }
    }

    private void OnFlushTimer()
    {
        _flushTimerArmed = false;
        if (!_closed && _failure is null && DurableOffset < LogEndOffset)
        {
            _ = TimedFlushAsync();
        }
    }

    private async Task TimedFlushAsync()
    {
        try
        {
            await FlushCoreAsync();
        }
        catch (Exception e)
        {
            Log.Warn(Subsystem, $"{Directory}: interval flush failed: {e.Message}");
        }
    }
}
