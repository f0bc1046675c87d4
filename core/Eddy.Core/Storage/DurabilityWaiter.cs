using System.Threading.Tasks.Sources;
using Eddy.Runtime;

namespace Eddy.Storage;

/// <summary>
/// One append (or flush) waiting until its offset is durable: a pooled awaitable, so a waiting append allocates
/// nothing. It completes on the log's shard, where the fdatasync that covers it finished, and runs its continuation
/// inline there (<see cref="ShardCompletionCore{T}"/>). After its result is read it goes back to the pool it came
/// from; nothing may touch it after that.
/// </summary>
internal sealed class DurabilityWaiter : IValueTaskSource
{
    private readonly DurabilityQueue _owner;
    private ShardCompletionCore<bool> _core;

    public DurabilityWaiter(DurabilityQueue owner)
    {
        _owner = owner;
    }

    /// <summary>Completes once every offset below this one is durable.</summary>
    public long Offset { get; set; }

    /// <summary>The next waiter in <see cref="DurabilityQueue"/> (higher or equal offset), or in its pool.</summary>
    public DurabilityWaiter? Next { get; set; }

    public ValueTask AsValueTask() => new(this, _core.Version);

    public void Complete() => _core.SetResult(true);

    public void Fail(Exception error) => _core.SetException(error);

    public void GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            _owner.Return(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
