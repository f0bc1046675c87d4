using System.Buffers.Binary;
using System.Text;
using Eddy.Hashing;

namespace Eddy.Records;

/// <summary>
/// Builds uncompressed record batches v2 for the broker's own writes (the kvstore, `__consumer_offsets`, compaction's
/// rewritten batches), tests and benchmarks. Not on the produce path: clients send finished batches. Reusable:
/// <see cref="Reset"/> keeps the buffer and the header settings (offset, epoch, producer, attributes).
/// </summary>
public sealed class RecordBatchBuilder
{
    private byte[] _buffer = new byte[4096];
    private byte[] _headers = [];
    private int _length;
    private long? _baseTimestamp;
    private long _maxTimestamp;
    private int _lastOffsetDelta;

    public RecordBatchBuilder() => Reset();

    public long BaseOffset { get; set; }
    public int PartitionLeaderEpoch { get; set; } = -1;
    public long ProducerId { get; set; } = -1;
    public short ProducerEpoch { get; set; } = -1;
    public int BaseSequence { get; set; } = -1;

    /// <summary>Batch attributes (<see cref="RecordBatch.TransactionalFlag"/> and the like); the compression bits are
    /// always written 0, since the records are written plain.</summary>
    public short Attributes { get; set; }

    public int Count { get; private set; }

    /// <summary>The batch's size so far, header included.</summary>
    public int Size => _length;

    /// <summary>Starts a new batch whose records are timed relative to <paramref name="baseTimestamp"/>, or to the
    /// first record's timestamp when it is null.</summary>
    public void Reset(long? baseTimestamp = null)
    {
        _baseTimestamp = baseTimestamp;
        _maxTimestamp = baseTimestamp ?? -1;
        Count = 0;
        _lastOffsetDelta = -1;
        _length = RecordBatch.HeaderSize;
    }

    /// <summary>Adds a record at the next offset delta; a null key or value is written as length -1 (a null value is a
    /// tombstone). Header names are written as UTF-8.</summary>
    public void Add(long timestamp, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keyIsNull = false, bool valueIsNull = false,
        ReadOnlySpan<KeyValuePair<string, byte[]?>> headers = default)
    {
        int headersSize = 0;
        foreach (var (name, headerValue) in headers)
        {
            int nameLength = Encoding.UTF8.GetByteCount(name);
            int valueLength = headerValue?.Length ?? -1;
            headersSize += Varint.Size(nameLength) + nameLength + Varint.Size(valueLength) + Math.Max(valueLength, 0);
        }
        if (_headers.Length < headersSize)
        {
            _headers = new byte[headersSize];
        }
        int at = 0;
        foreach (var (name, headerValue) in headers)
        {
            at += Varint.Write(_headers.AsSpan(at), Encoding.UTF8.GetByteCount(name));
            at += Encoding.UTF8.GetBytes(name, _headers.AsSpan(at));
            at += Varint.Write(_headers.AsSpan(at), headerValue?.Length ?? -1);
            headerValue.AsSpan().CopyTo(_headers.AsSpan(at));
            at += headerValue?.Length ?? 0;
        }
        Append(0, timestamp, _lastOffsetDelta + 1, key, keyIsNull ? -1 : key.Length, value, valueIsNull ? -1 : value.Length,
            headers.Length, _headers.AsSpan(0, headersSize));
    }

    /// <summary>Adds a record read from another batch as it was: its offset delta, timestamp, attributes and headers
    /// (compaction keeps every surviving record's offset).</summary>
    public void Add(Record record) =>
        Append(record.Attributes, record.Timestamp, record.OffsetDelta, record.Key, record.HasKey ? record.Key.Length : -1,
            record.Value, record.HasValue ? record.Value.Length : -1, record.HeaderCount, record.HeaderBytes);

    /// <summary>A batch of no records spanning offsets [<paramref name="baseOffset"/>, <paramref name="lastOffset"/>],
    /// of no producer: what a Raft leader sends in place of records compaction removed from its log, so that a
    /// follower's offsets (its Raft indexes) follow on from each other as the leader's do.</summary>
    public static byte[] Empty(long baseOffset, long lastOffset, int leaderEpoch)
    {
        var builder = new RecordBatchBuilder { BaseOffset = baseOffset, PartitionLeaderEpoch = leaderEpoch };
        return builder.Finish(checked((int)(lastOffset - baseOffset))).ToArray();
    }

    /// <summary>Writes the header and the CRC; returns the batch bytes, valid until the next Reset or Add.</summary>
    /// <param name="lastOffsetDelta">Overrides the last offset delta (compaction keeps the original batch's, so that the
    /// offsets of removed records are never handed out again).</param>
    public ReadOnlyMemory<byte> Finish(int? lastOffsetDelta = null)
    {
        var b = _buffer.AsSpan(0, _length);
        BinaryPrimitives.WriteInt64BigEndian(b, BaseOffset);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatch.LengthAt..], _length - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatch.LeaderEpochAt..], PartitionLeaderEpoch);
        b[RecordBatch.MagicAt] = RecordBatch.CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(b[RecordBatch.AttributesAt..], (short)(Attributes & ~RecordBatch.CompressionMask));
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatch.LastOffsetDeltaAt..], lastOffsetDelta ?? Math.Max(_lastOffsetDelta, 0));
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatch.BaseTimestampAt..], _baseTimestamp ?? -1);
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatch.MaxTimestampAt..], _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b[RecordBatch.ProducerIdAt..], ProducerId);
        BinaryPrimitives.WriteInt16BigEndian(b[RecordBatch.ProducerEpochAt..], ProducerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatch.BaseSequenceAt..], BaseSequence);
        BinaryPrimitives.WriteInt32BigEndian(b[RecordBatch.RecordCountAt..], Count);
        BinaryPrimitives.WriteUInt32BigEndian(b[RecordBatch.CrcAt..], Crc32C.Compute(b[RecordBatch.AttributesAt..]));
        return _buffer.AsMemory(0, _length);
    }

    private void Append(sbyte attributes, long timestamp, int offsetDelta, ReadOnlySpan<byte> key, int keyLength,
        ReadOnlySpan<byte> value, int valueLength, int headerCount, ReadOnlySpan<byte> headers)
    {
        _baseTimestamp ??= timestamp;
        long timestampDelta = timestamp - _baseTimestamp.Value;
        int body = 1 + Varint.Size(timestampDelta) + Varint.Size(offsetDelta) + Varint.Size(keyLength) + Math.Max(0, keyLength)
            + Varint.Size(valueLength) + Math.Max(0, valueLength) + Varint.Size(headerCount) + headers.Length;
        int size = Varint.Size(body) + body;
        if (_length + size > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_length + size, _buffer.Length * 2));
        }
        var span = _buffer.AsSpan(_length, size);
        int at = Varint.Write(span, body);
        span[at++] = (byte)attributes;
        at += Varint.Write(span[at..], timestampDelta);
        at += Varint.Write(span[at..], offsetDelta);
        at += Varint.Write(span[at..], keyLength);
        key[..Math.Max(0, keyLength)].CopyTo(span[at..]);
        at += Math.Max(0, keyLength);
        at += Varint.Write(span[at..], valueLength);
        value[..Math.Max(0, valueLength)].CopyTo(span[at..]);
        at += Math.Max(0, valueLength);
        at += Varint.Write(span[at..], headerCount);
        headers.CopyTo(span[at..]);
        _length += size;
        Count++;
        _lastOffsetDelta = offsetDelta;
        _maxTimestamp = Math.Max(_maxTimestamp, timestamp);
    }
}
