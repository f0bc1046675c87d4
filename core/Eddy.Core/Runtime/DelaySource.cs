using System.Threading.Tasks.Sources;

namespace Eddy.Runtime;

/// <summary>A pooled awaitable for <see cref="Shard.Delay(TimeSpan)"/>: no allocation per delay in steady state.</summary>
internal sealed class DelaySource : IValueTaskSource
{
    private static readonly Action<object?> Fire = static s => ((DelaySource)s!)._core.SetResult(true);
    private ShardCompletionCore<bool> _core;
    private Shard? _shard;

    public static ValueTask Start(Shard shard, long dueNanos)
    {
        var source = shard.DelayPool.Count > 0 ? shard.DelayPool.Pop() : new DelaySource();
        source._shard = shard;
        source._core.Reset();
        shard.Timers.Schedule(dueNanos, Fire, source);
        return new ValueTask(source, source._core.Version);
    }

    public void GetResult(short token)
    {
        _core.GetResult(token);
        var shard = _shard!;
        _shard = null;
        shard.DelayPool.Push(this);
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
