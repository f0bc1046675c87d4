namespace Eddy.Storage;

/// <summary>
/// One log's view of the batch cache: its cached batches in offset order (a growable ring, so steady-state
/// appends and evictions do not allocate) and the slab it is filling. Shard thread only.
/// </summary>
public sealed class CacheStream : IDisposable
{
    private readonly BatchCache _cache;
    private CacheEntry[] _ring = new CacheEntry[256];
    private int _head;

    internal CacheStream(BatchCache cache) => _cache = cache;

    public int Count { get; private set; }

    /// <summary>The offset after the last cached batch.</summary>
    public long EndOffset => Count == 0 ? -1 : this[Count - 1].NextOffset;

    /// <summary>The first cached offset, or -1 when nothing is cached.</summary>
    public long StartOffset => Count == 0 ? -1 : this[0].BaseOffset;

    internal CacheSlab? Current { get; set; }

    internal CacheEntry this[int i] => _ring[(_head + i) & (_ring.Length - 1)];

    public void Append(ReadOnlySpan<byte> batch, long baseOffset, long nextOffset) => _cache.Append(this, batch, baseOffset, nextOffset);

    public bool TryRead(long offset, int maxBytes, out LogRead read) => _cache.TryRead(this, offset, maxBytes, out read);

    public void Truncate(long offset) => _cache.Truncate(this, offset);

    /// <summary>Forgets batches that end at or before <paramref name="offset"/> (the log's start moved).</summary>
    public void DropBefore(long offset)
    {
        int n = 0;
        while (n < Count && this[n].NextOffset <= offset)
        {
            n++;
        }
        if (n > 0)
        {
            _cache.Drop(this, n);
        }
    }

    internal void Push(CacheEntry entry)
    {
        if (Count == _ring.Length)
        {
            var bigger = new CacheEntry[_ring.Length * 2];
            for (int i = 0; i < Count; i++)
            {
                bigger[i] = this[i];
            }
            _ring = bigger;
            _head = 0;
        }
        _ring[(_head + Count) & (_ring.Length - 1)] = entry;
        Count++;
    }

    internal CacheEntry PopFront()
    {
        var e = _ring[_head];
        _ring[_head] = default;
        _head = (_head + 1) & (_ring.Length - 1);
        Count--;
        return e;
    }

    internal CacheEntry PopBack()
    {
        int i = (_head + Count - 1) & (_ring.Length - 1);
        var e = _ring[i];
        _ring[i] = default;
        Count--;
        return e;
    }

    /// <summary>Index of the cached batch holding <paramref name="offset"/>, or -1.</summary>
    internal int Find(long offset)
    {
        int lo = 0;
        int hi = Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var e = this[mid];
            if (offset < e.BaseOffset)
            {
                hi = mid - 1;
            }
            else if (offset >= e.NextOffset)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }
        return -1;
    }

    public void Dispose() => _cache.Drop(this, Count);
}
