namespace Eddy.Runtime;

/// <summary>A message delivered to another shard through the SPSC mesh and run there.</summary>
internal interface ISmpMessage
{
    void Run(Shard here);
}

/// <summary>
/// The cross-shard mesh: one bounded SPSC queue per ordered pair of shards, so every queue has exactly one
/// producer thread and one consumer thread and needs no locks.
/// </summary>
internal sealed class SmpMesh
{
    /// <summary>Messages taken from one inbox per loop iteration, so one busy sender cannot starve the rest.</summary>
    private const int DrainBudget = 256;

    private readonly SpscQueue<ISmpMessage>?[] _queues;
    // Per queue: 1 while its producer holds messages parked in its outbox. The consumer, having made room,
    // wakes that producer; without this a sender whose queue was full could sleep with messages still parked.
    private readonly int[] _producerWaiting;
    private readonly ShardGroup _group;
    private readonly int _count;

    public SmpMesh(ShardGroup group, int shardCount, int queueCapacity)
    {
        _group = group;
        _count = shardCount;
        _queues = new SpscQueue<ISmpMessage>?[shardCount * shardCount];
        _producerWaiting = new int[shardCount * shardCount];
        for (int from = 0; from < shardCount; from++)
        {
            for (int to = 0; to < shardCount; to++)
            {
                if (from != to)
                {
                    _queues[from * shardCount + to] = new SpscQueue<ISmpMessage>(queueCapacity);
                }
            }
        }
    }

    private SpscQueue<ISmpMessage> Queue(int from, int to) => _queues[from * _count + to]!;

    /// <summary>Runs messages waiting for <paramref name="here"/>; returns how many ran.</summary>
    public int Drain(Shard here)
    {
        int ran = 0;
        for (int from = 0; from < _count; from++)
        {
            if (from == here.Id)
            {
                continue;
            }
            var queue = Queue(from, here.Id);
            int before = ran;
            for (int i = 0; i < DrainBudget && queue.TryDequeue(out var message); i++)
            {
                ran++;
                try
                {
                    message.Run(here);
                }
                catch (Exception e)
                {
                    _group.OnUnhandledException(e);
                }
            }
            if (ran != before)
            {
                // Pairs with the producer's fence before it sleeps: either it sees the room, or we see its flag.
                ref int waiting = ref _producerWaiting[from * _count + here.Id];
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref waiting) == 1 && Interlocked.Exchange(ref waiting, 0) == 1)
                {
                    _group[from].WakeIfSleeping();
                }
            }
        }
        return ran;
    }

    public bool HasIncoming(int to)
    {
        for (int from = 0; from < _count; from++)
        {
            if (from != to && !Queue(from, to).IsEmpty)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Messages waiting in the queues into shard <paramref name="to"/> (a moment's count, for metrics).</summary>
    public int IncomingCount(int to)
    {
        int count = 0;
        for (int from = 0; from < _count; from++)
        {
            count += from == to ? 0 : Queue(from, to).Count;
        }
        return count;
    }

    public Outbox CreateOutbox(int from) => new(this, from);

    /// <summary>
    /// A shard's sending side. When the queue to a target is full, messages wait here in order and are retried
    /// every loop iteration: the sender's awaits simply last longer (back-pressure), nothing is dropped, and what
    /// waits is bounded by the callers waiting.
    /// </summary>
    internal sealed class Outbox
    {
        private readonly SmpMesh _mesh;
        private readonly int _from;
        private readonly Queue<ISmpMessage>[] _waiting;
        private int _waitingCount;

        public Outbox(SmpMesh mesh, int from)
        {
            _mesh = mesh;
            _from = from;
            _waiting = new Queue<ISmpMessage>[mesh._count];
            for (int i = 0; i < _waiting.Length; i++)
            {
                _waiting[i] = new Queue<ISmpMessage>();
            }
        }

        public bool IsEmpty => _waitingCount == 0;

        /// <summary>Messages parked because their target's queue was full.</summary>
        public int WaitingCount => _waitingCount;

        public void Send(int to, ISmpMessage message)
        {
            var waiting = _waiting[to];
            if (waiting.Count == 0 && _mesh.Queue(_from, to).TryEnqueue(message))
            {
                _mesh._group[to].WakeIfSleeping();
                return;
            }
            waiting.Enqueue(message);
            _waitingCount++;
            Volatile.Write(ref _mesh._producerWaiting[_from * _mesh._count + to], 1);
        }

        /// <summary>True when some parked message's target queue has room now (checked before the shard sleeps).</summary>
        public bool CanMakeProgress()
        {
            if (_waitingCount == 0)
            {
                return false;
            }
            for (int to = 0; to < _waiting.Length; to++)
            {
                if (_waiting[to].Count > 0 && _mesh.Queue(_from, to).Count < _mesh.Queue(_from, to).Capacity)
                {
                    return true;
                }
            }
            return false;
        }

        public int Flush()
        {
            if (_waitingCount == 0)
            {
                return 0;
            }
            int sent = 0;
            for (int to = 0; to < _waiting.Length; to++)
            {
                var waiting = _waiting[to];
                if (waiting.Count == 0)
                {
                    continue;
                }
                var queue = _mesh.Queue(_from, to);
                int before = sent;
                while (waiting.TryPeek(out var message) && queue.TryEnqueue(message))
                {
                    waiting.Dequeue();
                    _waitingCount--;
                    sent++;
                }
                if (sent != before)
                {
                    _mesh._group[to].WakeIfSleeping();
                }
                if (waiting.Count > 0)
                {
                    // Still parked: ask the consumer again to wake us when it makes room.
                    Volatile.Write(ref _mesh._producerWaiting[_from * _mesh._count + to], 1);
                }
            }
            return sent;
        }
    }
}
