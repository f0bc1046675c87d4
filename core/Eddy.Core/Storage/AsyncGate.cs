namespace Eddy.Storage;

/// <summary>
/// Lets one async operation at a time through (appends, flushes, truncation and rolls of one log share the tail
/// page). Single-threaded (the log's shard), so no locks: an uncontended enter completes synchronously without
/// allocating; a waiter gets a task that the leaving operation completes, in arrival order.
/// </summary>
public sealed class AsyncGate
{
    private readonly Queue<TaskCompletionSource> _waiters = new();
    private bool _held;

    public bool IsHeld => _held;

    public ValueTask EnterAsync()
    {
        if (!_held)
        {
            _held = true;
            return ValueTask.CompletedTask;
        }
        // Continuations are posted (not run inline) so the leaving operation finishes first; the shard's
        // synchronization context brings them back to this thread.
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Enqueue(waiter);
        return new ValueTask(waiter.Task);
    }

    public void Exit()
    {
        if (_waiters.TryDequeue(out var next))
        {
            next.SetResult(); // ownership passes straight to the next waiter: _held stays true
            return;
        }
        _held = false;
    }
}
