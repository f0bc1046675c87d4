namespace Eddy.Storage;

/// <summary>One record of an uncompressed batch, as spans into the batch.</summary>
public readonly ref struct Record
{
    public Record(int offsetDelta, long timestampDelta, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, bool hasValue)
    {
        OffsetDelta = offsetDelta;
        TimestampDelta = timestampDelta;
        Key = key;
        HasKey = hasKey;
        Value = value;
        HasValue = hasValue;
    }

    public int OffsetDelta { get; }
    public long TimestampDelta { get; }
    public ReadOnlySpan<byte> Key { get; }
    public bool HasKey { get; }
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>False for a tombstone (null value).</summary>
    public bool HasValue { get; }
}

/// <summary>
/// Walks the records of an uncompressed batch v2 (kvstore replay, compaction). Every length is bounded by the
/// batch before it is used; a malformed record stops the walk with <see cref="Malformed"/> set.
/// </summary>
public ref struct RecordReader
{
    private readonly ReadOnlySpan<byte> _batch;
    private int _at;
    private int _left;

    public RecordReader(ReadOnlySpan<byte> batch)
    {
        _batch = batch;
        _at = BatchHeader.HeaderSize;
        _left = Math.Max(0, new BatchHeader(batch).RecordCount);
        Malformed = false;
    }

    public bool Malformed { get; private set; }

    public bool TryNext(out Record record)
    {
        record = default;
        if (_left == 0 || Malformed)
        {
            return false;
        }
        var rest = _batch[_at..];
        if (!Varint.TryRead(rest, out long length, out int n) || length < 0 || length > rest.Length - n)
        {
            return Fail();
        }
        var body = rest.Slice(n, (int)length);
        int p = 1; // attributes
        if (!Read(body, ref p, out long timestampDelta) || !Read(body, ref p, out long offsetDelta)
            || !ReadBytes(body, ref p, out int keyAt, out int keyLength) || !ReadBytes(body, ref p, out int valueAt, out int valueLength))
        {
            return Fail();
        }
        record = new Record((int)offsetDelta, timestampDelta, body.Slice(keyAt, Math.Max(0, keyLength)), keyLength >= 0,
            body.Slice(valueAt, Math.Max(0, valueLength)), valueLength >= 0);
        _at += n + (int)length;
        _left--;
        return true;
    }

    private bool Fail()
    {
        Malformed = true;
        return false;
    }

    private static bool Read(ReadOnlySpan<byte> body, ref int p, out long value)
    {
        if (p > body.Length || !Varint.TryRead(body[p..], out value, out int n))
        {
            value = 0;
            return false;
        }
        p += n;
        return true;
    }

    /// <summary>Reads a length-prefixed field: where it starts and its length (-1 for null).</summary>
    private static bool ReadBytes(ReadOnlySpan<byte> body, ref int p, out int at, out int length)
    {
        at = 0;
        length = -1;
        if (!Read(body, ref p, out long n) || n < -1 || n > body.Length - p)
        {
            return false;
        }
        at = p;
        length = (int)n;
        p += Math.Max(0, length);
        return true;
    }
}
