namespace Eddy.Storage;

/// <summary>
/// The appends of one log waiting for an fdatasync, in offset order, with a pool of their awaitables. Single-
/// threaded (the log's shard). Waiters almost always arrive in offset order (appends write one after another), so an
/// add is O(1) at the tail; a producer's retried batch can wait for an earlier offset and is inserted in place.
/// Completing takes waiters off the head one at a time, so a continuation that runs inline and adds or completes
/// waiters itself finds the queue consistent.
/// </summary>
internal sealed class DurabilityQueue
{
    private DurabilityWaiter? _head;
    private DurabilityWaiter? _tail;
    private DurabilityWaiter? _free;

    public bool IsEmpty => _head is null;

    /// <summary>Queues a waiter for <paramref name="offset"/> and returns what the caller awaits.</summary>
    public ValueTask Add(long offset)
    {
        var waiter = _free ?? new DurabilityWaiter(this);
        _free = waiter.Next;
        waiter.Next = null;
        waiter.Offset = offset;
        if (_tail is null)
        {
            _head = _tail = waiter;
        }
        else if (_tail.Offset <= offset)
        {
            _tail.Next = waiter;
            _tail = waiter;
        }
        else if (offset < _head!.Offset)
        {
            waiter.Next = _head;
            _head = waiter;
        }
        else
        {
            var before = _head;
            while (before.Next!.Offset <= offset)
            {
                before = before.Next;
            }
            waiter.Next = before.Next;
            before.Next = waiter;
        }
        return waiter.AsValueTask();
    }

    /// <summary>Completes every waiter whose offset is at or below <paramref name="durableOffset"/>, lowest first.</summary>
    public void CompleteUpTo(long durableOffset)
    {
        while (_head is { } waiter && waiter.Offset <= durableOffset)
        {
            TakeHead();
            waiter.Complete(); // may run the append's continuation inline, which may add waiters
        }
    }

    /// <summary>Fails every waiter (the fdatasync failed: nothing after the durable offset may be called durable).</summary>
    public void FailAll(Exception error)
    {
        while (_head is { } waiter)
        {
            TakeHead();
            waiter.Fail(error);
        }
    }

    /// <summary>Called by a waiter once its result was read.</summary>
    public void Return(DurabilityWaiter waiter)
    {
        waiter.Next = _free;
        _free = waiter;
    }

    private void TakeHead()
    {
        var waiter = _head!;
        _head = waiter.Next;
        if (_head is null)
        {
            _tail = null;
        }
        waiter.Next = null;
    }
}
