namespace Eddy.Runtime;

/// <summary>
/// A shard's timers: a min-heap on deadline. Cancellation is lazy (a cancelled entry is skipped when it
/// reaches the top), which keeps both scheduling and cancelling O(log n) and allocation-free for pooled entries.
/// Used only on the shard's thread.
/// </summary>
internal sealed class TimerQueue
{
    private readonly PriorityQueue<TimerEntry, long> _heap = new();
    private readonly Stack<TimerEntry> _free = new();

    public int Count => _heap.Count;

    public TimerHandle Schedule(long dueNanos, Action<object?> callback, object? state)
    {
        var entry = _free.Count > 0 ? _free.Pop() : new TimerEntry();
        entry.Callback = callback;
        entry.State = state;
        entry.Version++;
        entry.Armed = true;
        _heap.Enqueue(entry, dueNanos);
        return new TimerHandle(entry, entry.Version);
    }

    /// <summary>Deadline of the earliest live timer, or long.MaxValue.</summary>
    public long NextDeadline()
    {
        while (_heap.TryPeek(out var entry, out long due))
        {
            if (entry.Armed)
            {
                return due;
            }
            _heap.Dequeue();
            Recycle(entry);
        }
        return long.MaxValue;
    }

    /// <summary>Fires every timer due at <paramref name="now"/>; returns how many fired.</summary>
    public int FireDue(long now, Action<Exception> onError)
    {
        int fired = 0;
        while (_heap.TryPeek(out var entry, out long due) && due <= now)
        {
            _heap.Dequeue();
            if (!entry.Armed)
            {
                Recycle(entry);
                continue;
            }
            var callback = entry.Callback!;
            var state = entry.State;
            entry.Armed = false;
            Recycle(entry);
            fired++;
            try
            {
                callback(state);
            }
            catch (Exception e)
            {
                onError(e);
            }
        }
        return fired;
    }

    private void Recycle(TimerEntry entry)
    {
        entry.Callback = null;
        entry.State = null;
        entry.Version++; // stale handles no longer match
        _free.Push(entry);
    }
}

internal sealed class TimerEntry
{
    public Action<object?>? Callback;
    public object? State;
    public int Version;
    public bool Armed;
}

/// <summary>Cancels a scheduled timer; a no-op once it has fired or been cancelled.</summary>
public readonly struct TimerHandle
{
    private readonly TimerEntry? _entry;
    private readonly int _version;

    internal TimerHandle(TimerEntry entry, int version)
    {
        _entry = entry;
        _version = version;
    }

    /// <summary>Must be called on the timer's shard. Returns true when the timer was still pending.</summary>
    public bool Cancel()
    {
        if (_entry is null || _entry.Version != _version || !_entry.Armed)
        {
            return false;
        }
        _entry.Armed = false;
        return true;
    }
}
