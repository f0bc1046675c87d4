namespace Eddy.Raft.Driver;

// Backpressure: a leader takes new batches only while the bytes it proposed and a majority has not yet committed stay
// under a bound, so it never runs far ahead of its followers.
public sealed partial class PartitionRaft
{
    /// <summary>Bytes of proposed batches a leader lets wait for their commit before a new proposal waits for room. Well
    /// above what a link carries in one commit round trip (100 MB/s for 40 ms), and well inside the window of appends in
    /// flight, so that a follower that keeps up is always sent proposals as they come, from memory: a leader far ahead
    /// would send each batch later, read back from its log (a copy per batch), while its heartbeats queue behind the
    /// bulk on the same connections.</summary>
    public const int MaxUncommittedBytes = 8 << 20;

    private readonly Queue<(long LastIndex, int Bytes)> _uncommitted = new();
    private readonly List<TaskCompletionSource> _roomWaiters = new();
    private long _uncommittedBytes;

    /// <summary>Completes once a proposal may go in without passing <see cref="MaxUncommittedBytes"/>, or once this replica
    /// no longer leads (the proposal is then refused). Callers wait for it before proposing, in their order.</summary>
    public Task WaitForRoomAsync()
    {
        if (_uncommittedBytes < MaxUncommittedBytes || _raft.Role != Role.Leader || Failure is not null)
        {
            return Task.CompletedTask;
        }
        var waiter = new TaskCompletionSource();
        _roomWaiters.Add(waiter);
        return waiter.Task;
    }

    private void NoteProposed(long lastIndex, int bytes)
    {
        _uncommitted.Enqueue((lastIndex, bytes));
        _uncommittedBytes += bytes;
    }

    /// <summary>Forgets the proposals now committed (or all, off the leader) and lets the waiters in when there is room.</summary>
    private void ReleaseRoom()
    {
        bool leads = _raft.Role == Role.Leader && Failure is null;
        while (_uncommitted.TryPeek(out var oldest) && (!leads || oldest.LastIndex <= _raft.Committed))
        {
            _uncommitted.Dequeue();
            _uncommittedBytes -= oldest.Bytes;
        }
        if (_roomWaiters.Count > 0 && (!leads || _uncommittedBytes < MaxUncommittedBytes))
        {
            var waiters = _roomWaiters.ToArray();
            _roomWaiters.Clear();
            foreach (var waiter in waiters)
            {
                waiter.TrySetResult();
            }
        }
    }
}
