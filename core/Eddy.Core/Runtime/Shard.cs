using System.Collections.Concurrent;
using Eddy.Buffers;
using Eddy.Runtime.Files;
using Eddy.Runtime.IO;

namespace Eddy.Runtime;

/// <summary>
/// One core's reactor: a pinned thread that runs ready continuations, drains its cross-shard inboxes, fires
/// timers, and submits and reaps I/O, sleeping in the kernel only when none of these has work. Everything a
/// shard owns (its ring, timers, buffer pool) is touched only from its own thread.
/// </summary>
public sealed class Shard
{
    /// <summary>How many ready callbacks run before the loop looks at I/O and timers again.</summary>
    private const int ReadyBudget = 256;

    [ThreadStatic]
    private static Shard? t_current;

    private readonly ReadyQueue _ready = new();
    private readonly ConcurrentQueue<(object Callback, object? State)> _foreign = new();
    private readonly int _cpu;
    private Thread? _thread;
    private int _sleeping;
    private volatile bool _stopRequested;
    private volatile bool _exited;

    internal Shard(ShardGroup group, int id, int cpu, IClock clock)
    {
        Group = group;
        Id = id;
        _cpu = cpu;
        Clock = clock;
        SynchronizationContext = new ShardSynchronizationContext(this);
        Scheduler = new ShardTaskScheduler(this);
    }

    /// <summary>The shard whose thread is running the caller, or null off-shard.</summary>
    public static Shard? Current => t_current;

    public int Id { get; }
    public ShardGroup Group { get; }
    public IClock Clock { get; }
    public TaskScheduler Scheduler { get; }
    public SynchronizationContext SynchronizationContext { get; }
    public bool IsCurrent => t_current == this;

    /// <summary>The I/O backend's name once the shard has started ("io_uring" or "epoll").</summary>
    public string IoBackendName => Io?.Name ?? "none";

    /// <summary>The shard's filesystem metadata calls, made off its thread (create, delete, rename, list).</summary>
    public ShardFiles Files { get; private set; } = null!;

    /// <summary>The shard's page-aligned buffer pool.</summary>
    public BufferPool Buffers { get; private set; } = null!;

    internal IoBackend Io { get; private set; } = null!;

    private readonly ShardStats _stats = new();

    /// <summary>A copy of this shard's reactor and I/O figures, for metrics. On this shard.</summary>
    public ShardStats Snapshot()
    {
        AssertCurrent();
        _stats.UptimeNanos = Clock.NowNanos - _stats.StartedNanos;
        _stats.IncomingQueued = _foreign.Count + Group.Mesh.IncomingCount(Id);
        _stats.OutboxWaiting = Outbox.WaitingCount;
        _stats.Io = Io.Stats;
        return _stats.Copy();
    }
    internal TimerQueue Timers { get; } = new();
    internal Stack<DelaySource> DelayPool { get; } = new();
    internal SmpMesh.Outbox Outbox { get; private set; } = null!;

    /// <summary>Queues a callback to run on this shard. Safe from any thread.</summary>
    public void Post(Action<object?> callback, object? state) => PostCore(callback, state);

    internal void PostCore(object callback, object? state)
    {
        if (t_current == this)
        {
            _ready.Enqueue(callback, state);
            return;
        }
        if (_exited)
        {
            // Nothing would ever run it: fail loudly instead of leaving the poster waiting forever.
            throw new InvalidOperationException($"shard {Id} has stopped");
        }
        _foreign.Enqueue((callback, state));
        WakeIfSleeping();
    }

    /// <summary>Completes after <paramref name="delay"/> on this shard's clock. Shard thread only.</summary>
    public ValueTask Delay(TimeSpan delay)
    {
        AssertCurrent();
        return DelaySource.Start(this, Clock.NowNanos + Math.Max(0, delay.Ticks * 100));
    }

    /// <summary>Runs <paramref name="callback"/> at <paramref name="dueNanos"/> on this shard's clock. Shard thread only.</summary>
    public TimerHandle Schedule(long dueNanos, Action<object?> callback, object? state)
    {
        AssertCurrent();
        return Timers.Schedule(dueNanos, callback, state);
    }

    /// <summary>Throws unless called on this shard's thread: guards everything a shard owns.</summary>
    public void AssertCurrent()
    {
        if (t_current != this)
        {
            throw new InvalidOperationException($"shard {Id}'s state was touched from another thread (current shard: {t_current?.Id.ToString() ?? "none"})");
        }
    }

    /// <summary>Called by a producer after publishing work for this shard: rings the doorbell if it sleeps.</summary>
    internal void WakeIfSleeping()
    {
        // Pairs with the fence in the loop: either the shard sees our item, or we see it asleep.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1)
        {
            Io.Wake();
        }
    }

    internal void Start(IoBackendKind backend, bool pin, ManualResetEventSlim started, Action<Exception> onStartFailure)
    {
        _thread = new Thread(() => Run(backend, pin, started, onStartFailure))
        {
            Name = $"eddy-shard-{Id}",
            IsBackground = true,
        };
        _thread.Start();
    }

    internal void RequestStop()
    {
        _stopRequested = true;
        if (Io is not null)
        {
            Interlocked.Exchange(ref _sleeping, 0);
            Io.Wake();
        }
    }

    internal bool Join(TimeSpan timeout) => _thread is null || _thread.Join(timeout);

    /// <summary>After <see cref="Join"/>: nothing can ring this shard any more, so its eventfd can close.</summary>
    internal void ReleaseWake() => Io?.ReleaseWake();

    private void Run(IoBackendKind backend, bool pin, ManualResetEventSlim started, Action<Exception> onStartFailure)
    {
        t_current = this;
        SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        try
        {
            if (pin)
            {
                Native.Affinity.PinCurrentThread(_cpu);
            }
            Io = IoBackendFactory.Create(backend, this);
            Buffers = new BufferPool(this);
            Files = new ShardFiles(this);
            Outbox = Group.Mesh.CreateOutbox(Id);
        }
        catch (Exception e)
        {
            onStartFailure(e);
            started.Set();
            return;
        }
        started.Set();
        try
        {
            Loop();
        }
        finally
        {
            _exited = true;
            Files.Dispose();
            Buffers.Dispose();
            Io.Dispose();
            t_current = null;
        }
    }

    private void Loop()
    {
        var onError = Group.OnUnhandledException;
        _stats.StartedNanos = _stats.WindowStartNanos = Clock.NowNanos;
        while (true)
        {
            int ran = _ready.RunBatch(ReadyBudget, onError);
            _stats.TasksRun += ran;
            _stats.LoopTurns++;
            int work = ran + DrainForeign();
            work += Group.Mesh.Drain(this);
            work += Outbox.Flush();
            long now = Clock.NowNanos;
            _stats.Tick(now);
            work += Timers.FireDue(now, onError);
            if (_stopRequested && _ready.Count == 0 && _foreign.IsEmpty && Outbox.IsEmpty)
            {
                return;
            }
            if (work > 0 || _ready.Count > 0)
            {
                Io.Poll(-1); // submit and reap without waiting: there is more to run
                continue;
            }
            Volatile.Write(ref _sleeping, 1);
            Interlocked.MemoryBarrier();
            long wait;
            if (!_foreign.IsEmpty || Group.Mesh.HasIncoming(Id) || Outbox.CanMakeProgress() || Io.HasReadyCompletions || _stopRequested)
            {
                wait = -1; // something arrived meanwhile: poll without sleeping (this also reaps those completions)
            }
            else
            {
                long next = Timers.NextDeadline();
                wait = next == long.MaxValue ? long.MaxValue : Math.Max(0, next - Clock.NowNanos);
            }
            long asleep = Clock.NowNanos;
            Io.Poll(wait);
            _stats.SleepNanos += Clock.NowNanos - asleep;
            Volatile.Write(ref _sleeping, 0);
        }
    }

    private int DrainForeign()
    {
        int n = 0;
        while (n < ReadyBudget && _foreign.TryDequeue(out var item))
        {
            _ready.Enqueue(item.Callback, item.State);
            n++;
        }
        return n;
    }
}
