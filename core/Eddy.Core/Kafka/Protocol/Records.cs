namespace Eddy.Kafka.Protocol;

/// <summary>
/// Walks the records of one (uncompressed) batch payload. Each record is a view over the payload,
/// so iterating allocates nothing. The whole record, headers included, is checked against its length
/// prefix before it is handed out.
/// </summary>
public ref struct RecordEnumerator
{
    private KafkaReader _r;
    private int _left;
    private readonly long _baseOffset, _baseTimestamp;

    public RecordEnumerator(ReadOnlySpan<byte> records, int count, long baseOffset, long baseTimestamp, long errorOffset = 0)
    {
        _r = KafkaReader.OverSpan(records, errorOffset);
        if (count < 0 || count > records.Length / 7 + 1) _r.Fail($"record count {count} does not fit in {records.Length} bytes");
        _left = count;
        _baseOffset = baseOffset;
        _baseTimestamp = baseTimestamp;
    }

    public Record Current { get; private set; }
    public readonly RecordEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_left == 0)
        {
            if (!_r.IsAtEnd) _r.Fail($"{_r.Remaining} bytes after the last record");
            return false;
        }
        _left--;
        int length = _r.ReadVarInt();
        if (length < 0 || length > _r.Remaining) _r.Fail($"record length {length} outside 0..{_r.Remaining}");
        int end = _r.Position + length;
        int outer = _r.PushLimit(length);
        sbyte attributes = _r.ReadInt8();
        long timestampDelta = _r.ReadVarLong();
        int offsetDelta = _r.ReadVarInt();
        var key = ReadNullable(ref _r, out bool hasKey, "key");
        var value = ReadNullable(ref _r, out bool hasValue, "value");
        int headerCount = _r.ReadVarInt();
        // A header is at least two bytes (two zero-length varints).
        if (headerCount < 0 || headerCount > _r.Remaining / 2) _r.Fail($"header count {headerCount} out of range");
        var headers = _r.ReadSpan(end - _r.Position);
        var check = KafkaReader.OverSpan(headers);
        for (int i = 0; i < headerCount; i++) HeaderEnumerator.ReadHeader(ref check);
        if (!check.IsAtEnd) _r.Fail($"record declares {length} bytes but its fields end {check.Remaining} bytes early");
        _r.PopLimit(outer);
        Current = new Record(attributes, timestampDelta, offsetDelta, _baseOffset + offsetDelta, _baseTimestamp + timestampDelta,
            key, hasKey, value, hasValue, headerCount, headers);
        return true;
    }

    internal static ReadOnlySpan<byte> ReadNullable(scoped ref KafkaReader r, out bool present, string what)
    {
        int len = r.ReadVarInt();
        present = len >= 0;
        if (len < -1 || len > r.Remaining) r.Fail($"record {what} length {len} outside -1..{r.Remaining}");
        return len <= 0 ? default : r.ReadSpan(len);
    }
}

/// <summary>One record: every span points into the batch payload.</summary>
public readonly ref struct Record
{
    internal Record(sbyte attributes, long timestampDelta, int offsetDelta, long offset, long timestamp,
        ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, bool hasValue, int headerCount, ReadOnlySpan<byte> headers)
    {
        Attributes = attributes; TimestampDelta = timestampDelta; OffsetDelta = offsetDelta; Offset = offset; Timestamp = timestamp;
        Key = key; HasKey = hasKey; Value = value; HasValue = hasValue; HeaderCount = headerCount; _headers = headers;
    }

    private readonly ReadOnlySpan<byte> _headers;
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
    public HeaderEnumerator Headers => new(_headers, HeaderCount);
}

public readonly ref struct RecordHeader(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool hasValue)
{
    /// <summary>UTF-8 bytes of the header name.</summary>
    public ReadOnlySpan<byte> Key { get; } = key;
    public ReadOnlySpan<byte> Value { get; } = value;
    public bool HasValue { get; } = hasValue;
}

public ref struct HeaderEnumerator
{
    private KafkaReader _r;
    private int _left;

    internal HeaderEnumerator(ReadOnlySpan<byte> headers, int count)
    {
        _r = KafkaReader.OverSpan(headers);
        _left = count;
    }

    public RecordHeader Current { get; private set; }
    public readonly HeaderEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_left == 0) return false;
        _left--;
        Current = ReadHeader(ref _r);
        return true;
    }

    internal static RecordHeader ReadHeader(scoped ref KafkaReader r)
    {
        int keyLength = r.ReadVarInt();
        if (keyLength < 0 || keyLength > r.Remaining) r.Fail($"header key length {keyLength} outside 0..{r.Remaining}");
        var key = r.ReadSpan(keyLength);
        var value = RecordEnumerator.ReadNullable(ref r, out bool hasValue, "header value");
        return new RecordHeader(key, value, hasValue);
    }
}
