using Eddy.Native;

namespace Eddy.Runtime;

/// <summary>
/// Requests from a shard to a helper thread of its own (the epoll backend's file worker, the shard's metadata thread):
/// a bounded SPSC ring, an in-order overflow list on the shard for when the ring is full, and a doorbell (eventfd) the
/// helper sleeps on only when it has nothing to do, rung only when it sleeps. <see cref="Enqueue"/> and
/// <see cref="MoveOverflow"/> are for the shard's thread, <see cref="WaitForWork"/> and <see cref="TryDequeue"/> for
/// the helper's.
/// </summary>
internal sealed class WorkerQueue<T> : IDisposable
    where T : class
{
    private readonly SpscQueue<T> _ring;
    private readonly Queue<T> _overflow = new();
    private readonly EventFd _doorbell = new(nonBlocking: false);
    private int _sleeping;
    private volatile bool _stopping;

    public WorkerQueue(int capacity) => _ring = new SpscQueue<T>(capacity);

    public bool IsStopping => _stopping;

    public void Enqueue(T item)
    {
        if (_overflow.Count > 0 || !_ring.TryEnqueue(item))
        {
            _overflow.Enqueue(item); // the helper is behind: keep the order, move on when it has taken some
            return;
        }
        Ring();
    }

    /// <summary>Moves waiting requests into the ring as far as it has room; true when any moved.</summary>
    public bool MoveOverflow()
    {
        bool moved = false;
        while (_overflow.TryPeek(out var item) && _ring.TryEnqueue(item))
        {
            _overflow.Dequeue();
            moved = true;
        }
        if (moved)
        {
            Ring();
        }
        return moved;
    }

    public bool TryDequeue(out T item) => _ring.TryDequeue(out item!);

    /// <summary>Returns true once there is a request, sleeping until then; false once stopped.</summary>
    public bool WaitForWork()
    {
        while (!_stopping)
        {
            if (!_ring.IsEmpty)
            {
                return true;
            }
            Volatile.Write(ref _sleeping, 1);
            Interlocked.MemoryBarrier();
            if (!_ring.IsEmpty || _stopping)
            {
                Volatile.Write(ref _sleeping, 0);
                continue;
            }
            _doorbell.Drain(); // blocks until rung: the helper has nothing else to do
        }
        return false;
    }

    /// <summary>Any thread: the helper ends its wait and <see cref="WaitForWork"/> answers false from now on.</summary>
    public void Stop()
    {
        _stopping = true;
        _doorbell.Signal();
    }

    private void Ring()
    {
        // Pairs with the fence in WaitForWork: either the helper sees the request, or we see it asleep.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1)
        {
            _doorbell.Signal();
        }
    }

    /// <summary>After the helper thread has ended.</summary>
    public void Dispose() => _doorbell.Dispose();
}
