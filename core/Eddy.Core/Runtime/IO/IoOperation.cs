using System.Buffers;
using System.Threading.Tasks.Sources;

namespace Eddy.Runtime.IO;

internal enum IoKind : byte
{
    Read,
    Write,
    Sync,
    DataSync,
    Allocate,
    Send,
    Receive,
    Accept,
    Connect,
}

/// <summary>
/// One pending I/O request and its awaitable. Pooled per backend; completed only on the shard thread, with the
/// kernel's convention for the result (non-negative, or -errno). The request fields are what the epoll backend's
/// file worker needs to perform the call itself.
/// </summary>
internal sealed class IoOperation : IValueTaskSource<int>
{
    private readonly Stack<IoOperation> _pool;
    private readonly IoStats _stats;
    private ShardCompletionCore<int> _core;
    private long _startedTicks;

    public IoOperation(Stack<IoOperation> pool, IoStats stats)
    {
        _pool = pool;
        _stats = stats;
    }

    public IoKind Kind;
    public int Fd;
    public nint Buffer;
    public int Length;
    public long Offset;
    public int Mode;
    public long Extent;
    public bool SyncAfter;
    public Memory<byte> Memory;
    public MemoryHandle Pin;
    /// <summary>What the kernel answered (for the epoll file worker, and the first half of a linked write).</summary>
    public int KernelResult;

    public static IoOperation Rent(Stack<IoOperation> pool, IoStats stats, IoKind kind)
    {
        var op = pool.Count > 0 ? pool.Pop() : new IoOperation(pool, stats);
        op._core.Reset();
        op.Kind = kind;
        // Only syncs are timed (a write may be linked to one, SyncAfter, set after this): sends and receives, the
        // most frequent, skip the clock.
        op._startedTicks = kind is IoKind.Sync or IoKind.DataSync or IoKind.Write ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        stats.Started[(int)kind]++;
        return op;
    }

    public ValueTask<int> AsValueTask() => new(this, _core.Version);

    public void Complete(int result)
    {
        _stats.Completed[(int)Kind]++;
        if (Kind is IoKind.Sync or IoKind.DataSync || (Kind == IoKind.Write && SyncAfter))
        {
            _stats.SyncLatency.Record(System.Diagnostics.Stopwatch.GetTimestamp() - _startedTicks);
        }
        Pin.Dispose();
        Pin = default;
        Memory = default;
        _core.SetResult(result);
    }

    public int GetResult(short token)
    {
        int result = _core.GetResult(token);
        Buffer = 0;
        _pool.Push(this);
        return result;
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
