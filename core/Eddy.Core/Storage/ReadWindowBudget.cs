namespace Eddy.Storage;

/// <summary>
/// Bounds the memory a shard's logs keep in read windows between reads (<see cref="SegmentReader"/>): a window a
/// reader keeps for its next sequential read counts here, least recently used first, and when the total passes the
/// capacity the oldest is dropped by its reader. Windows that reads are using, or that views still hold, do not count:
/// those are bounded by the reads in flight. Owned by the shard's <see cref="ShardStorage"/>; shard thread only.
/// </summary>
internal sealed class ReadWindowBudget
{
    private readonly LinkedList<ReadWindow> _lru = new();

    internal ReadWindowBudget(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
    }

    public long Capacity { get; }

    /// <summary>Bytes of the windows kept.</summary>
    public long Bytes { get; private set; }

    /// <summary>Counts a window its reader now keeps; drops the least recently kept ones past the capacity (possibly
    /// this one, if it alone is larger).</summary>
    public void Keep(ReadWindow window)
    {
        _lru.AddLast(window.BudgetNode);
        Bytes += window.Buffer!.Length;
        while (Bytes > Capacity)
        {
            var oldest = _lru.First!.Value;
            oldest.Reader.Drop(oldest); // calls Forget
        }
    }

    /// <summary>Stops counting a window (its reader took it for a read, or let it go).</summary>
    public void Forget(ReadWindow window)
    {
        _lru.Remove(window.BudgetNode);
        Bytes -= window.Buffer!.Length;
    }
}
