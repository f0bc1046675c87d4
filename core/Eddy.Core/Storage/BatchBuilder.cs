using System.Buffers.Binary;
using Eddy.Hashing;

namespace Eddy.Storage;

/// <summary>
/// Builds uncompressed record batches v2 for storage's own users (the kvstore, compaction's rewritten batches,
/// tests and benchmarks). Not on the produce path: clients send finished batches. Reusable: <see cref="Reset"/>
/// keeps the buffer.
/// </summary>
public sealed class BatchBuilder
{
    private byte[] _buffer = new byte[4096];
    private int _length;
    private int _count;
    private long _firstTimestamp;
    private long _maxTimestamp;
    private int _lastOffsetDelta;

    public BatchBuilder() => Reset(0);

    public int Count => _count;

    /// <summary>Starts a new batch whose records are timed relative to <paramref name="firstTimestamp"/>.</summary>
    public void Reset(long firstTimestamp)
    {
        _firstTimestamp = firstTimestamp;
        _maxTimestamp = firstTimestamp;
        _count = 0;
        _lastOffsetDelta = -1;
        _length = BatchHeader.HeaderSize;
    }

    /// <summary>Adds a record; a null key or value is written as length -1 (a null value is a tombstone).</summary>
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long timestamp, bool nullKey = false, bool nullValue = false, int offsetDelta = -1)
    {
        offsetDelta = offsetDelta < 0 ? _lastOffsetDelta + 1 : offsetDelta;
        int keyLength = nullKey ? -1 : key.Length;
        int valueLength = nullValue ? -1 : value.Length;
        long timestampDelta = timestamp - _firstTimestamp;
        int body = 1 + Varint.Size(timestampDelta) + Varint.Size(offsetDelta)
            + Varint.Size(keyLength) + Math.Max(0, keyLength) + Varint.Size(valueLength) + Math.Max(0, valueLength) + Varint.Size(0);
        Ensure(_length + Varint.Size(body) + body);
        var span = _buffer.AsSpan(_length);
        int at = Varint.Write(span, body);
        span[at++] = 0; // record attributes
        at += Varint.Write(span[at..], timestampDelta);
        at += Varint.Write(span[at..], offsetDelta);
        at += Varint.Write(span[at..], keyLength);
        if (keyLength > 0)
        {
            key.CopyTo(span[at..]);
            at += keyLength;
        }
        at += Varint.Write(span[at..], valueLength);
        if (valueLength > 0)
        {
            value.CopyTo(span[at..]);
            at += valueLength;
        }
        at += Varint.Write(span[at..], 0); // no headers
        _length += at;
        _count++;
        _lastOffsetDelta = offsetDelta;
        _maxTimestamp = Math.Max(_maxTimestamp, timestamp);
    }

    /// <summary>Writes the header (base offset 0, epoch -1, no producer) and the CRC; returns the batch bytes, valid
    /// until the next Reset or Add.</summary>
    /// <param name="attributes">Batch attributes (compression bits must stay 0: records are written plain).</param>
    /// <param name="lastOffsetDelta">Overrides the last offset delta (compaction keeps the original batch's, so that
    /// the offsets of removed records are never handed out again).</param>
    public ReadOnlyMemory<byte> Finish(short attributes = 0, int lastOffsetDelta = -1)
    {
        var b = _buffer.AsSpan(0, _length);
        BinaryPrimitives.WriteInt64BigEndian(b, 0);
        BinaryPrimitives.WriteInt32BigEndian(b[BatchHeader.LengthAt..], _length - BatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(b[BatchHeader.LeaderEpochAt..], -1);
        b[BatchHeader.MagicAt] = BatchHeader.CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(b[BatchHeader.AttributesAt..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(b[BatchHeader.LastOffsetDeltaAt..], lastOffsetDelta >= 0 ? lastOffsetDelta : Math.Max(_lastOffsetDelta, 0));
        BinaryPrimitives.WriteInt64BigEndian(b[BatchHeader.FirstTimestampAt..], _firstTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[BatchHeader.MaxTimestampAt..], _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[43..], -1); // producerId
        BinaryPrimitives.WriteInt16BigEndian(b[51..], -1); // producerEpoch
        BinaryPrimitives.WriteInt32BigEndian(b[53..], -1); // baseSequence
        BinaryPrimitives.WriteInt32BigEndian(b[BatchHeader.RecordCountAt..], _count);
        BinaryPrimitives.WriteUInt32BigEndian(b[BatchHeader.CrcAt..], Crc32C.Compute(b[BatchHeader.AttributesAt..]));
        return _buffer.AsMemory(0, _length);
    }

    private void Ensure(int size)
    {
        if (size > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(size, _buffer.Length * 2));
        }
    }
}
