using System.Buffers.Binary;
using System.Text;
using Eddy.Hashing;

namespace Eddy.Kafka.Protocol;

/// <summary>
/// Builds one record batch (magic 2): records are appended uncompressed to an internal buffer, and
/// <see cref="WriteTo"/> emits the header, the (optionally compressed) records and the CRC. Used by
/// tests, benchmarks and the broker's own internal topics (offsets, transaction markers).
/// </summary>
public sealed class RecordBatchBuilder(CompressionType compression = CompressionType.None) : IDisposable
{
    private readonly KafkaWriter _records = new();
    private long _firstTimestamp = -1, _maxTimestamp = -1;

    public CompressionType Compression { get; } = compression;
    public long BaseOffset { get; set; }
    public int PartitionLeaderEpoch { get; set; } = -1;
    public long ProducerId { get; set; } = -1;
    public short ProducerEpoch { get; set; } = -1;
    public int BaseSequence { get; set; } = -1;
    public bool IsTransactional { get; set; }
    public bool IsControl { get; set; }
    public bool LogAppendTime { get; set; }
    public int Count { get; private set; }

    /// <summary>Appends a record; a default span with <paramref name="keyIsNull"/> or <paramref name="valueIsNull"/> writes length -1.</summary>
    public void Add(long timestamp, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keyIsNull = false, bool valueIsNull = false,
        ReadOnlySpan<KeyValuePair<string, byte[]?>> headers = default)
    {
        if (Count == 0) _firstTimestamp = timestamp;
        _maxTimestamp = Math.Max(_maxTimestamp, timestamp);
        long tsDelta = timestamp - _firstTimestamp;
        int offsetDelta = Count;
        int keyLen = keyIsNull ? -1 : key.Length, valueLen = valueIsNull ? -1 : value.Length;

        int body = 1 + VarInts.SizeOfVarLong(tsDelta) + VarInts.SizeOfVarInt(offsetDelta)
            + VarInts.SizeOfVarInt(keyLen) + Math.Max(keyLen, 0) + VarInts.SizeOfVarInt(valueLen) + Math.Max(valueLen, 0)
            + VarInts.SizeOfVarInt(headers.Length);
        foreach (var h in headers)
        {
            int k = Encoding.UTF8.GetByteCount(h.Key), v = h.Value?.Length ?? -1;
            body += VarInts.SizeOfVarInt(k) + k + VarInts.SizeOfVarInt(v) + Math.Max(v, 0);
        }

        _records.WriteVarInt(body);
        _records.WriteInt8(0); // record attributes: unused
        _records.WriteVarLong(tsDelta);
        _records.WriteVarInt(offsetDelta);
        _records.WriteVarInt(keyLen);
        if (keyLen > 0) _records.WriteRaw(key);
        _records.WriteVarInt(valueLen);
        if (valueLen > 0) _records.WriteRaw(value);
        _records.WriteVarInt(headers.Length);
        foreach (var h in headers)
        {
            var k = Encoding.UTF8.GetBytes(h.Key);
            _records.WriteVarInt(k.Length);
            _records.WriteRaw(k);
            _records.WriteVarInt(h.Value?.Length ?? -1);
            if (h.Value is { Length: > 0 } v) _records.WriteRaw(v);
        }
        Count++;
    }

    /// <summary>Appends the finished batch to <paramref name="dst"/>; returns its size in bytes.</summary>
    public int WriteTo(KafkaWriter dst)
    {
        int start = dst.Length;
        short attributes = (short)((int)Compression | (LogAppendTime ? 0x08 : 0) | (IsTransactional ? 0x10 : 0) | (IsControl ? 0x20 : 0));
        dst.WriteInt64(BaseOffset);
        dst.WriteInt32(0); // batch length, patched below
        dst.WriteInt32(PartitionLeaderEpoch);
        dst.WriteInt8((sbyte)RecordBatch.CurrentMagic);
        dst.WriteUInt32(0); // CRC, patched below
        dst.WriteInt16(attributes);
        dst.WriteInt32(Math.Max(Count - 1, 0));
        dst.WriteInt64(_firstTimestamp);
        dst.WriteInt64(_maxTimestamp);
        dst.WriteInt64(ProducerId);
        dst.WriteInt16(ProducerEpoch);
        dst.WriteInt32(BaseSequence);
        dst.WriteInt32(Count);
        Compressor.Compress(Compression, _records.WrittenSpan, dst);
        int size = dst.Length - start;
        // The writer's buffer may have moved while compressing: patch through a fresh view.
        var batch = dst.WrittenForPatch(start, size);
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatch.LengthOffset..], size - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteUInt32BigEndian(batch[RecordBatch.CrcOffset..], Crc32C.Compute(batch[RecordBatch.AttributesOffset..]));
        return size;
    }

    public byte[] ToArray()
    {
        using var w = new KafkaWriter();
        WriteTo(w);
        return w.ToArray();
    }

    /// <summary>
    /// A transaction marker: a control batch holding one record whose key is (version 0, type) and
    /// whose value is (version 0, coordinator epoch).
    /// </summary>
    public static byte[] ControlBatch(ControlRecordType type, int coordinatorEpoch, long producerId, short producerEpoch, long timestamp)
    {
        using var b = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = producerEpoch, IsTransactional = true, IsControl = true };
        Span<byte> key = stackalloc byte[4], value = stackalloc byte[6];
        BinaryPrimitives.WriteInt16BigEndian(key, 0);
        BinaryPrimitives.WriteInt16BigEndian(key[2..], (short)type);
        BinaryPrimitives.WriteInt16BigEndian(value, 0);
        BinaryPrimitives.WriteInt32BigEndian(value[2..], coordinatorEpoch);
        b.Add(timestamp, key, value);
        return b.ToArray();
    }

    /// <summary>Reads a control record's type from its key (null if the key is not a control key).</summary>
    public static ControlRecordType? ReadControlType(ReadOnlySpan<byte> key) =>
        key.Length >= 4 && BinaryPrimitives.ReadInt16BigEndian(key) == 0 ? (ControlRecordType)BinaryPrimitives.ReadInt16BigEndian(key[2..]) : null;

    public void Dispose() => _records.Dispose();
}
