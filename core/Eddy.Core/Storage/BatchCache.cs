using Eddy.Buffers;

namespace Eddy.Storage;

/// <summary>
/// A shard's cache of recently appended batches, so that tailing readers never touch the disk. Memory comes in
/// page-aligned slabs (1 MiB by default) from the shard's buffer pool; each log fills its own slabs in order and
/// keeps an ordered list of the batches in them, always a contiguous run of offsets ending at the log end. The
/// cache is bounded in bytes and evicts whole slabs, least recently used first. Reads return views into a slab
/// and hold a reference to it, so eviction never pulls memory from under a reader. Owned by the shard's
/// <see cref="ShardStorage"/>; shard thread only.
/// </summary>
public sealed class BatchCache : IDisposable
{
    private readonly BufferPool _pool;
    private readonly LinkedList<CacheSlab> _lru = new();
    private readonly Stack<CacheSlab> _free = new();
    private long _slabBytes;
    private bool _disposed;

    public BatchCache(BufferPool pool, long capacityBytes, int slabSize = 1 << 20)
    {
        _pool = pool;
        Capacity = capacityBytes;
        SlabSize = slabSize;
    }

    public long Capacity { get; }
    public int SlabSize { get; }

    /// <summary>Bytes of slabs in use (cached or held by readers).</summary>
    public long Bytes => _slabBytes;

    public CacheStream OpenStream() => new(this);

    internal void Append(CacheStream stream, ReadOnlySpan<byte> batch, long baseOffset, long nextOffset)
    {
        if (batch.Length > SlabSize || Capacity < SlabSize || (stream.Count > 0 && stream.EndOffset != baseOffset))
        {
            Drop(stream, stream.Count); // too big to cache, or not contiguous: keep the cached run contiguous
            if (batch.Length > SlabSize || Capacity < SlabSize)
            {
                return;
            }
        }
        var slab = stream.Current;
        if (slab is null || slab.Used + batch.Length > SlabSize)
        {
            slab = NewSlab(stream);
            stream.Current = slab;
        }
        batch.CopyTo(slab.Buffer!.Span[slab.Used..]);
        stream.Push(new CacheEntry(baseOffset, nextOffset, slab, slab.Used, batch.Length));
        slab.Used += batch.Length;
        Touch(slab);
    }

    internal bool TryRead(CacheStream stream, long offset, int maxBytes, out LogRead read)
    {
        int i = stream.Find(offset);
        if (i < 0)
        {
            read = default;
            return false;
        }
        var first = stream[i];
        int length = first.Length;
        long next = first.NextOffset;
        for (int j = i + 1; j < stream.Count; j++)
        {
            var e = stream[j];
            if (e.Slab != first.Slab || e.Position != first.Position + length || length + e.Length > maxBytes)
            {
                break;
            }
            length += e.Length;
            next = e.NextOffset;
        }
        first.Slab.Refs++;
        Touch(first.Slab);
        read = new LogRead(first.Slab.Buffer!.Memory.Slice(first.Position, length), first.BaseOffset, next, first.Slab, fromCache: true);
        return true;
    }

    /// <summary>Forgets cached batches at or past <paramref name="offset"/> (the log's suffix was truncated).</summary>
    internal void Truncate(CacheStream stream, long offset)
    {
        while (stream.Count > 0 && stream[stream.Count - 1].NextOffset > offset)
        {
            var slab = stream.PopBack().Slab;
            if (stream.Count == 0 || stream[stream.Count - 1].Slab != slab)
            {
                Evict(slab);
            }
        }
    }

    /// <summary>Drops the first <paramref name="count"/> entries of a stream and every slab they alone used.</summary>
    internal void Drop(CacheStream stream, int count)
    {
        for (int k = 0; k < count && stream.Count > 0; k++)
        {
            var slab = stream.PopFront().Slab;
            if (stream.Count == 0 || stream[0].Slab != slab)
            {
                Evict(slab);
            }
        }
        if (stream.Count == 0 && stream.Current is { } current)
        {
            Evict(current);
        }
    }

    private CacheSlab NewSlab(CacheStream stream)
    {
        while (_slabBytes + SlabSize > Capacity && _lru.First is { } oldest)
        {
            EvictThrough(oldest.Value);
        }
        var slab = _free.Count > 0 ? _free.Pop() : new CacheSlab(this);
        slab.Buffer ??= _pool.Rent(SlabSize);
        slab.Stream = stream;
        slab.Used = 0;
        slab.Refs = 1; // the cache's own reference
        _lru.AddLast(slab.Node);
        _slabBytes += SlabSize;
        return slab;
    }

    // Evicting a slab drops its stream's entries up to and including the slab's last one, so that what stays
    // cached is still a contiguous run of offsets.
    private void EvictThrough(CacheSlab slab)
    {
        var stream = slab.Stream!;
        int last = -1;
        for (int i = 0; i < stream.Count; i++)
        {
            if (stream[i].Slab == slab)
            {
                last = i;
            }
        }
        if (last >= 0)
        {
            Drop(stream, last + 1);
        }
        if (slab.Node.List is not null)
        {
            Evict(slab);
        }
    }

    private void Evict(CacheSlab slab)
    {
        if (slab.Node.List is null)
        {
            return;
        }
        _lru.Remove(slab.Node);
        if (slab.Stream?.Current == slab)
        {
            slab.Stream.Current = null;
        }
        slab.Stream = null;
        slab.Release();
    }

    private void Touch(CacheSlab slab)
    {
        if (slab.Node.List is not null && slab.Node != _lru.Last)
        {
            _lru.Remove(slab.Node);
            _lru.AddLast(slab.Node);
        }
    }

    internal void Recycle(CacheSlab slab)
    {
        _slabBytes -= SlabSize;
        // A reader may let go of its slab after the cache was disposed: the buffer then goes straight home.
        if (!_disposed && _free.Count * (long)SlabSize < Capacity / 8)
        {
            _free.Push(slab);
            return;
        }
        slab.Buffer?.Return();
        slab.Buffer = null;
    }

    public void Dispose()
    {
        while (_lru.First is { } oldest)
        {
            EvictThrough(oldest.Value);
        }
        while (_free.Count > 0)
        {
            var slab = _free.Pop();
            slab.Buffer?.Return();
            slab.Buffer = null;
        }
        _disposed = true;
    }
}

/// <summary>A cache slab: one pooled buffer, filled by one log, freed when neither the cache nor a reader holds it.</summary>
internal sealed class CacheSlab : ReadOwner
{
    private readonly BatchCache _cache;

    public CacheSlab(BatchCache cache)
    {
        _cache = cache;
        Node = new LinkedListNode<CacheSlab>(this);
    }

    public AlignedBuffer? Buffer { get; set; }
    public CacheStream? Stream { get; set; }
    public int Used { get; set; }
    public int Refs { get; set; }
    public LinkedListNode<CacheSlab> Node { get; }

    public override void Release()
    {
        if (--Refs == 0)
        {
            _cache.Recycle(this);
        }
    }
}

internal readonly record struct CacheEntry(long BaseOffset, long NextOffset, CacheSlab Slab, int Position, int Length);
