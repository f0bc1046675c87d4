using System.Threading.Tasks.Sources;

namespace Eddy.Runtime;

/// <summary>
/// The completion state of a pooled awaitable that is always completed on its shard's own thread.
/// It wraps <see cref="ManualResetValueTaskSourceCore{TResult}"/> but ignores the scheduling context:
/// completion already happens on the awaiting shard, so the continuation runs inline rather than being posted
/// (posting through a SynchronizationContext would allocate on every completion).
/// </summary>
internal struct ShardCompletionCore<T>
{
    private ManualResetValueTaskSourceCore<T> _core;

    public readonly short Version => _core.Version;

    public void Reset() => _core.Reset();

    public void SetResult(T result) => _core.SetResult(result);

    public void SetException(Exception error) => _core.SetException(error);

    public readonly ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public T GetResult(short token) => _core.GetResult(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags & ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext);
}
