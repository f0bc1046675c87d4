namespace Eddy.Records;

/// <summary>
/// Walks the records of one uncompressed records payload (a plain batch's, or a compressed one's once decompressed).
/// Each record is a view over the payload, so reading allocates nothing. Every length and count is bounded by the
/// bytes present before it is used, and a record's fields, headers included, must end exactly where its length
/// prefix says; anything else stops the walk with <see cref="Malformed"/> set, as do trailing bytes after the last
/// record. Callers decide what a malformed batch means to them, so it never throws.
/// </summary>
public ref struct RecordReader
{
    // The smallest record: length, attributes, timestamp delta, offset delta, key length, value length, header count.
    private const int MinRecordSize = 7;

    private readonly ReadOnlySpan<byte> _records;
    private readonly long _baseOffset;
    private readonly long _baseTimestamp;
    private int _at;
    private int _left;

    public RecordReader(ReadOnlySpan<byte> records, int count, long baseOffset, long baseTimestamp)
    {
        _records = records;
        _baseOffset = baseOffset;
        _baseTimestamp = baseTimestamp;
        _left = count;
        Malformed = count < 0 || count > records.Length / MinRecordSize + 1;
    }

    public bool Malformed { get; private set; }

    public bool TryNext(out Record record)
    {
        record = default;
        if (Malformed)
        {
            return false;
        }
        if (_left == 0)
        {
            Malformed = _at != _records.Length;
            return false;
        }
        var rest = _records[_at..];
        if (!Varint.TryReadInt(rest, out int length, out int n) || length < 0 || length > rest.Length - n)
        {
            return Fail();
        }
        var body = rest.Slice(n, length);
        if (body.IsEmpty)
        {
            return Fail();
        }
        int p = 1; // attributes
        if (!TryReadLong(body, ref p, out long timestampDelta) || !TryReadInt(body, ref p, out int offsetDelta)
            || !TryReadBytes(body, ref p, out var key, out bool hasKey) || !TryReadBytes(body, ref p, out var value, out bool hasValue)
            || !TryReadInt(body, ref p, out int headerCount) || headerCount < 0 || headerCount > (body.Length - p) / 2
            || !HeaderEnumerator.TrySkip(body[p..], headerCount))
        {
            return Fail();
        }
        record = new Record((sbyte)body[0], timestampDelta, offsetDelta, _baseOffset + offsetDelta, _baseTimestamp + timestampDelta,
            key, hasKey, value, hasValue, headerCount, body[p..]);
        _at += n + length;
        _left--;
        return true;
    }

    private bool Fail()
    {
        Malformed = true;
        return false;
    }

    private static bool TryReadLong(ReadOnlySpan<byte> body, ref int p, out long value)
    {
        if (!Varint.TryRead(body[p..], out value, out int n))
        {
            return false;
        }
        p += n;
        return true;
    }

    internal static bool TryReadInt(ReadOnlySpan<byte> body, ref int p, out int value)
    {
        if (!Varint.TryReadInt(body[p..], out value, out int n))
        {
            return false;
        }
        p += n;
        return true;
    }

    /// <summary>Reads a length-prefixed field whose length -1 means null.</summary>
    internal static bool TryReadBytes(ReadOnlySpan<byte> body, scoped ref int p, out ReadOnlySpan<byte> bytes, out bool present)
    {
        bytes = default;
        present = false;
        if (!TryReadInt(body, ref p, out int length) || length < -1 || length > body.Length - p)
        {
            return false;
        }
        present = length >= 0;
        if (length > 0)
        {
            bytes = body.Slice(p, length);
            p += length;
        }
        return true;
    }
}

/// <summary>One record: every span points into the records payload it was read from.</summary>
public readonly ref struct Record
{
    internal Record(sbyte attributes, long timestampDelta, int offsetDelta, long offset, long timestamp,
        ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, bool hasValue, int headerCount, ReadOnlySpan<byte> headerBytes)
    {
        Attributes = attributes;
        TimestampDelta = timestampDelta;
        OffsetDelta = offsetDelta;
        Offset = offset;
        Timestamp = timestamp;
        Key = key;
        HasKey = hasKey;
        Value = value;
        HasValue = hasValue;
        HeaderCount = headerCount;
        HeaderBytes = headerBytes;
    }

    public sbyte Attributes { get; }
    public long TimestampDelta { get; }
    public int OffsetDelta { get; }
    public long Offset { get; }
    public long Timestamp { get; }
    public ReadOnlySpan<byte> Key { get; }

    /// <summary>False for a null key (length -1), as opposed to an empty one.</summary>
    public bool HasKey { get; }
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>False for a null value: a tombstone.</summary>
    public bool HasValue { get; }
    public int HeaderCount { get; }

    /// <summary>The headers as encoded, so that a rewritten batch can carry them over untouched.</summary>
    public ReadOnlySpan<byte> HeaderBytes { get; }

    public HeaderEnumerator Headers => new(HeaderBytes, HeaderCount);
}
