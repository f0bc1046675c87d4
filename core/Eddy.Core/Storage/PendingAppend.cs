using System.Threading.Tasks.Sources;
using Eddy.Runtime;

namespace Eddy.Storage;

/// <summary>
/// An append waiting in <see cref="AppendQueue"/> while another append's write is in flight: a pooled awaitable
/// that completes with where the log's current writer put it (written together with the writer's own batches), or
/// with <see cref="AppendQueue.WriterTurn"/> when it is at the head of the queue and writes next itself. Completes on
/// the log's shard and runs its continuation inline there; returns to the pool once its result is read.
/// </summary>
internal sealed class PendingAppend : IValueTaskSource<LogAppend>
{
    private readonly AppendQueue _owner;
    private ShardCompletionCore<LogAppend> _core;

    public PendingAppend(AppendQueue owner)
    {
        _owner = owner;
    }

    public ReadOnlyMemory<byte> Batches { get; set; }
    public int LeaderEpoch { get; set; }
    public bool AssignOffsets { get; set; }

    /// <summary>Where the writer put the batches, kept until the write succeeds.</summary>
    public LogAppend Placement { get; set; }

    /// <summary>The next append in the queue, or in the pool.</summary>
    public PendingAppend? Next { get; set; }

    public ValueTask<LogAppend> AsValueTask() => new(this, _core.Version);

    public void Complete(LogAppend result) => _core.SetResult(result);

    public void Fail(Exception error) => _core.SetException(error);

    public LogAppend GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            Batches = default; // the caller's memory is not kept past its append
            _owner.Return(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
