using System.Threading.Tasks.Sources;

namespace Eddy.Runtime;

/// <summary>The result type of cross-shard calls that return nothing.</summary>
internal readonly struct NoResult;

/// <summary>
/// A cross-shard call: travels to the target shard, runs the work there (awaiting it if it is asynchronous),
/// travels back and completes the caller's awaitable on the caller's shard. Pooled per calling thread.
/// </summary>
internal sealed class SmpCall<T> : ISmpMessage, IValueTaskSource<T>, IValueTaskSource
{
    [ThreadStatic]
    private static Stack<SmpCall<T>>? t_pool;

    private readonly Action _onWorkCompleted;
    private ShardCompletionCore<T> _core;
    private Shard _origin = null!;
    private Shard? _target;
    private object? _work;
    private bool _executed;
    private T _result = default!;
    private Exception? _error;
    private ValueTask<T> _pendingTyped;
    private ValueTask _pendingUntyped;

    private SmpCall() => _onWorkCompleted = OnWorkCompleted;

    /// <summary>Sends <paramref name="work"/> (a Func&lt;T&gt;, Func&lt;ValueTask&lt;T&gt;&gt;, Action or Func&lt;ValueTask&gt;) to <paramref name="target"/>.</summary>
    public static SmpCall<T> Start(Shard origin, int target, object work)
    {
        var pool = t_pool ??= new Stack<SmpCall<T>>();
        var call = pool.Count > 0 ? pool.Pop() : new SmpCall<T>();
        call._core.Reset();
        call._origin = origin;
        call._work = work;
        call._executed = false;
        call._error = null;
        call._result = default!;
        origin.Outbox.Send(target, call);
        return call;
    }

    public short Version => _core.Version;

    // The pending ValueTask is stored so its continuation can read it: it is still consumed exactly once.
#pragma warning disable CA2012
    public void Run(Shard here)
    {
        if (_executed)
        {
            // Back on the caller's shard.
            if (_error is not null)
            {
                _core.SetException(_error);
            }
            else
            {
                _core.SetResult(_result);
            }
            return;
        }
        _executed = true;
        _target = here;
        try
        {
            switch (_work)
            {
                case Func<T> sync:
                    _result = sync();
                    break;
                case Func<ValueTask<T>> asyncTyped:
                    _pendingTyped = asyncTyped();
                    if (!_pendingTyped.IsCompleted)
                    {
                        _pendingTyped.GetAwaiter().UnsafeOnCompleted(_onWorkCompleted);
                        return;
                    }
                    _result = _pendingTyped.GetAwaiter().GetResult();
                    _pendingTyped = default;
                    break;
                case Action action:
                    action();
                    break;
                case Func<ValueTask> asyncUntyped:
                    _pendingUntyped = asyncUntyped();
                    if (!_pendingUntyped.IsCompleted)
                    {
                        _pendingUntyped.GetAwaiter().UnsafeOnCompleted(_onWorkCompleted);
                        return;
                    }
                    _pendingUntyped.GetAwaiter().GetResult();
                    _pendingUntyped = default;
                    break;
                default:
                    throw new InvalidOperationException($"unsupported cross-shard work type {_work?.GetType()}");
            }
        }
        catch (Exception e)
        {
            _error = e;
        }
        Reply();
    }

#pragma warning restore CA2012

    private void OnWorkCompleted()
    {
        try
        {
            if (_work is Func<ValueTask<T>>)
            {
                _result = _pendingTyped.GetAwaiter().GetResult();
            }
            else
            {
                _pendingUntyped.GetAwaiter().GetResult();
            }
        }
        catch (Exception e)
        {
            _error = e;
        }
        _pendingTyped = default;
        _pendingUntyped = default;
        Reply();
    }

    private void Reply()
    {
        var target = _target!;
        _target = null;
        _work = null;
        target.Outbox.Send(_origin.Id, this);
    }

    public T GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _result = default!;
            _error = null;
            (t_pool ??= new Stack<SmpCall<T>>()).Push(this);
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
