namespace Eddy.Storage;

/// <summary>
/// The appends of one log waiting for the write in flight to finish, in arrival order, with a pool of their
/// awaitables. Single-threaded (the log's shard). The log's writer takes the first ones into its write, dequeuing
/// them when it ends (<see cref="PartitionLog"/>, "write coalescing"), and hands the writer's turn to the head then.
/// </summary>
internal sealed class AppendQueue
{
    /// <summary>What a queued append gets when it is its turn to write (no append has a negative base offset).</summary>
    public static readonly LogAppend WriterTurn = new(-1, -1, -1);

    private PendingAppend? _head;
    private PendingAppend? _tail;
    private PendingAppend? _free;

    public PendingAppend? Head => _head;

    public ValueTask<LogAppend> Enqueue(ReadOnlyMemory<byte> batches, int leaderEpoch, bool assignOffsets)
    {
        var append = _free ?? new PendingAppend(this);
        _free = append.Next;
        append.Next = null;
        append.Batches = batches;
        append.LeaderEpoch = leaderEpoch;
        append.AssignOffsets = assignOffsets;
        if (_tail is null)
        {
            _head = _tail = append;
        }
        else
        {
            _tail.Next = append;
            _tail = append;
        }
        return append.AsValueTask();
    }

    public PendingAppend Dequeue()
    {
        var append = _head ?? throw new InvalidOperationException("the append queue is empty");
        _head = append.Next;
        if (_head is null)
        {
            _tail = null;
        }
        append.Next = null;
        return append;
    }

    /// <summary>Called by an append once its result was read.</summary>
    public void Return(PendingAppend append)
    {
        append.Next = _free;
        _free = append;
    }
}
