namespace Eddy.Storage;

/// <summary>Who keeps the memory of a <see cref="LogRead"/> alive: a batch-cache slab or a buffer read from disk.</summary>
public abstract class ReadOwner
{
    public abstract void Release();
}

/// <summary>
/// Whole record batches read from a log, as a view over page-aligned memory that the read owns: a batch-cache
/// slab (no copy) or a buffer filled by an O_DIRECT read. The view stays valid, whatever the log does meanwhile
/// (appends, eviction, truncation, retention), until <see cref="Dispose"/>, which must be called exactly once, on
/// the log's shard, when the bytes have been sent or copied.
/// </summary>
public readonly struct LogRead : IDisposable
{
    private readonly ReadOwner? _owner;

    public LogRead(ReadOnlyMemory<byte> records, long firstOffset, long nextOffset, ReadOwner? owner, bool fromCache)
    {
        Records = records;
        FirstOffset = firstOffset;
        NextOffset = nextOffset;
        _owner = owner;
        FromCache = fromCache;
    }

    /// <summary>Complete batches, exactly as stored. Empty at the log end.</summary>
    public ReadOnlyMemory<byte> Records { get; }

    /// <summary>Base offset of the first batch (it may start before the offset asked for).</summary>
    public long FirstOffset { get; }

    /// <summary>The offset after the last batch returned: where the next read continues.</summary>
    public long NextOffset { get; }

    /// <summary>Served from the shard's batch cache rather than the disk.</summary>
    public bool FromCache { get; }

    public bool IsEmpty => Records.IsEmpty;

    /// <summary>The first <paramref name="length"/> bytes (whole batches ending before <paramref name="nextOffset"/>),
    /// with the same owner: dispose the result instead of this read.</summary>
    public LogRead Take(int length, long nextOffset) => new(Records[..length], FirstOffset, nextOffset, _owner, FromCache);

    /// <summary>The batches from byte <paramref name="start"/> (whole batches from <paramref name="firstOffset"/>) for
    /// <paramref name="length"/> bytes, ending before <paramref name="nextOffset"/>, with the same owner: dispose the
    /// result instead of this read.</summary>
    public LogRead Slice(int start, int length, long firstOffset, long nextOffset)
        => new(Records.Slice(start, length), firstOffset, nextOffset, _owner, FromCache);

    public void Dispose() => _owner?.Release();
}
