namespace Eddy.Runtime;

/// <summary>
/// A shard's queue of ready callbacks: a growable ring used only by the shard's own thread, so it needs no
/// synchronization. Holds either <see cref="Action{T}"/> or <see cref="SendOrPostCallback"/> without wrapping
/// (wrapping would allocate per post).
/// </summary>
internal sealed class ReadyQueue
{
    private (object Callback, object? State)[] _items = new (object, object?)[256];
    private int _head;
    private int _count;

    public int Count => _count;

    public void Enqueue(object callback, object? state)
    {
        if (_count == _items.Length)
        {
            Grow();
        }
        _items[(_head + _count) & (_items.Length - 1)] = (callback, state);
        _count++;
    }

    /// <summary>Runs at most <paramref name="budget"/> callbacks, and only those queued before the call: work that
    /// re-posts itself waits for the next round, so I/O, timers and cross-shard calls are never starved.</summary>
    public int RunBatch(int budget, Action<Exception> onError)
    {
        budget = Math.Min(budget, _count);
        int ran = 0;
        while (_count > 0 && ran < budget)
        {
            ref var slot = ref _items[_head];
            (object callback, object? state) = slot;
            slot = default;
            _head = (_head + 1) & (_items.Length - 1);
            _count--;
            ran++;
            try
            {
                if (callback is Action<object?> action)
                {
                    action(state);
                }
                else
                {
                    ((SendOrPostCallback)callback)(state);
                }
            }
            catch (Exception e)
            {
                onError(e);
            }
        }
        return ran;
    }

    private void Grow()
    {
        var bigger = new (object, object?)[_items.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            bigger[i] = _items[(_head + i) & (_items.Length - 1)];
        }
        _items = bigger;
        _head = 0;
    }
}
