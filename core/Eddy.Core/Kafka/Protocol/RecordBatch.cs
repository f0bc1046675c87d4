using System.Buffers.Binary;
using Eddy.Hashing;

namespace Eddy.Kafka.Protocol;

public enum CompressionType : byte { None = 0, Gzip = 1, Snappy = 2, Lz4 = 3, Zstd = 4 }

public enum ControlRecordType : short { Abort = 0, Commit = 1 }

/// <summary>
/// A zero-copy view of one record batch (magic 2) over bytes as they arrived or as they are stored.
/// Header fields are read in place; nothing is copied until records are decompressed.
/// </summary>
public readonly struct RecordBatch
{
    // Offsets of the v2 header fields, all big-endian.
    public const int BaseOffsetOffset = 0, LengthOffset = 8, PartitionLeaderEpochOffset = 12, MagicOffset = 16,
        CrcOffset = 17, AttributesOffset = 21, LastOffsetDeltaOffset = 23, BaseTimestampOffset = 27,
        MaxTimestampOffset = 35, ProducerIdOffset = 43, ProducerEpochOffset = 51, BaseSequenceOffset = 53,
        RecordCountOffset = 57, HeaderSize = 61;
    /// <summary>Bytes before the length field's coverage starts: baseOffset and batchLength.</summary>
    public const int LogOverhead = 12;
    public const byte CurrentMagic = 2;

    private readonly ReadOnlyMemory<byte> _bytes;

    private RecordBatch(ReadOnlyMemory<byte> bytes) => _bytes = bytes;

    /// <summary>The whole batch, header included: what the log stores and Fetch returns.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;
    private ReadOnlySpan<byte> S => _bytes.Span;

    public long BaseOffset => BinaryPrimitives.ReadInt64BigEndian(S);
    public int BatchLength => BinaryPrimitives.ReadInt32BigEndian(S[LengthOffset..]);
    public int PartitionLeaderEpoch => BinaryPrimitives.ReadInt32BigEndian(S[PartitionLeaderEpochOffset..]);
    public byte Magic => S[MagicOffset];
    public uint Crc => BinaryPrimitives.ReadUInt32BigEndian(S[CrcOffset..]);
    public short Attributes => BinaryPrimitives.ReadInt16BigEndian(S[AttributesOffset..]);
    public int LastOffsetDelta => BinaryPrimitives.ReadInt32BigEndian(S[LastOffsetDeltaOffset..]);
    public long BaseTimestamp => BinaryPrimitives.ReadInt64BigEndian(S[BaseTimestampOffset..]);
    public long MaxTimestamp => BinaryPrimitives.ReadInt64BigEndian(S[MaxTimestampOffset..]);
    public long ProducerId => BinaryPrimitives.ReadInt64BigEndian(S[ProducerIdOffset..]);
    public short ProducerEpoch => BinaryPrimitives.ReadInt16BigEndian(S[ProducerEpochOffset..]);
    public int BaseSequence => BinaryPrimitives.ReadInt32BigEndian(S[BaseSequenceOffset..]);
    public int RecordCount => BinaryPrimitives.ReadInt32BigEndian(S[RecordCountOffset..]);

    public CompressionType Compression => (CompressionType)(Attributes & 0x07);
    public bool IsLogAppendTime => (Attributes & 0x08) != 0;
    public bool IsTransactional => (Attributes & 0x10) != 0;
    public bool IsControl => (Attributes & 0x20) != 0;
    public bool HasDeleteHorizon => (Attributes & 0x40) != 0;
    public long LastOffset => BaseOffset + LastOffsetDelta;

    /// <summary>Everything after the header: the records, compressed as a whole when <see cref="Compression"/> is set.</summary>
    public ReadOnlyMemory<byte> Payload => _bytes[HeaderSize..];

    /// <summary>CRC-32C over attributes..end, the part the checksum covers (not offset, length, epoch, magic).</summary>
    public uint ComputeCrc() => Crc32C.Compute(S[AttributesOffset..]);
    public bool IsCrcValid => ComputeCrc() == Crc;

    /// <summary>
    /// Reads the batch at the front of <paramref name="data"/>: the length must fit in the data and cover
    /// a full header, and the magic must be 2. Does not check the CRC (see <see cref="Validate"/>).
    /// </summary>
    public static RecordBatch Parse(ReadOnlyMemory<byte> data, long errorOffset = 0)
    {
        if (!TryParse(data, out var batch, out string? error, errorOffset)) throw new KafkaProtocolException(error!, errorOffset, KafkaProtocolException.CorruptMessage);
        return batch;
    }

    /// <summary>Like <see cref="Parse"/>; returns false with the reason rather than throwing (a truncated tail on Fetch is normal).</summary>
    public static bool TryParse(ReadOnlyMemory<byte> data, out RecordBatch batch, out string? error, long errorOffset = 0)
    {
        batch = default;
        var s = data.Span;
        if (s.Length < HeaderSize) { error = $"record batch truncated: {s.Length} bytes, header needs {HeaderSize}"; return false; }
        int len = BinaryPrimitives.ReadInt32BigEndian(s[LengthOffset..]);
        if (len < HeaderSize - LogOverhead) { error = $"record batch length {len} shorter than its header"; return false; }
        if (len > s.Length - LogOverhead) { error = $"record batch length {len} exceeds the {s.Length - LogOverhead} bytes present"; return false; }
        if (s[MagicOffset] != CurrentMagic) { error = $"record batch magic {s[MagicOffset]} is not 2 (legacy message sets are refused)"; return false; }
        batch = new RecordBatch(data[..(LogOverhead + len)]);
        error = null;
        return true;
    }

    /// <summary>
    /// What a broker checks before appending (NOTES 3.1): CRC, a sane record count, a known codec.
    /// Failures raise CORRUPT_MESSAGE (2) for damaged bytes, INVALID_RECORD (87) for a malformed batch.
    /// </summary>
    public void Validate(long errorOffset = 0)
    {
        if (!IsCrcValid)
            throw new KafkaProtocolException($"record batch CRC mismatch: stored {Crc:x8}, computed {ComputeCrc():x8}", errorOffset + CrcOffset, KafkaProtocolException.CorruptMessage);
        if (RecordCount < 0 || LastOffsetDelta < 0)
            throw new KafkaProtocolException($"record batch count {RecordCount} / last offset delta {LastOffsetDelta} invalid", errorOffset + RecordCountOffset, 87);
        if ((int)Compression > 4)
            throw new KafkaProtocolException($"unknown compression codec {(int)Compression}", errorOffset + AttributesOffset, 76);
    }

    /// <summary>
    /// The records, decompressed into a pooled buffer when the batch is compressed (bounded by
    /// <see cref="ProtocolLimits.MaxDecompressedBytes"/>). Dispose the result to return the buffer.
    /// </summary>
    public RecordsPayload OpenRecords(ProtocolLimits? limits = null)
    {
        if (Compression == CompressionType.None) return new RecordsPayload(Payload, null, this);
        var (buffer, length) = Compressor.Decompress(Compression, Payload.Span, (limits ?? ProtocolLimits.Default).MaxDecompressedBytes);
        return new RecordsPayload(buffer.AsMemory(0, length), buffer, this);
    }

    /// <summary>The batches in a records field, in order; stops quietly at a truncated tail (Fetch may cut the last batch).</summary>
    public static BatchEnumerator Enumerate(ReadOnlyMemory<byte> records) => new(records);

    public struct BatchEnumerator(ReadOnlyMemory<byte> records)
    {
        private ReadOnlyMemory<byte> _rest = records;
        private int _offset;
        public RecordBatch Current { get; private set; }
        public readonly BatchEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_rest.Length < HeaderSize) return false;
            int len = BinaryPrimitives.ReadInt32BigEndian(_rest.Span[LengthOffset..]);
            if (len > _rest.Length - LogOverhead) return false; // partial trailing batch
            Current = Parse(_rest, _offset);
            _rest = _rest[Current.Bytes.Length..];
            _offset += Current.Bytes.Length;
            return true;
        }
    }
}

/// <summary>Uncompressed records of one batch; owns a pooled buffer when the batch was compressed.</summary>
public struct RecordsPayload : IDisposable
{
    private byte[]? _rented;
    private readonly RecordBatch _batch;

    internal RecordsPayload(ReadOnlyMemory<byte> data, byte[]? rented, RecordBatch batch)
    {
        Data = data;
        _rented = rented;
        _batch = batch;
    }

    public ReadOnlyMemory<byte> Data { get; private set; }

    /// <summary>Iterates the records without allocating: each record and header is a view over <see cref="Data"/>.</summary>
    public readonly RecordEnumerator GetEnumerator() => new(Data.Span, _batch.RecordCount, _batch.BaseOffset, _batch.BaseTimestamp);

    public void Dispose()
    {
        if (_rented is { } b) System.Buffers.ArrayPool<byte>.Shared.Return(b);
        _rented = null;
        Data = default;
    }
}

/// <summary>
/// Kafka 4 dropped message format v0/v1 on the write path; Eddy stores magic 2 only and refuses the
/// rest with the errors Kafka 4 returns (see docs/protocol.md).
/// </summary>
public static class LegacyMessageFormat
{
    public const short UnsupportedVersion = 35, InvalidRecord = 87;

    /// <summary>Produce v0-2 can only carry magic 0/1 message sets: refused with UNSUPPORTED_VERSION.</summary>
    public static short CheckProduceVersion(short version) => version < 3 ? UnsupportedVersion : (short)0;

    /// <summary>Fetch v0-3 can only return magic 0/1 to the client: refused with UNSUPPORTED_VERSION.</summary>
    public static short CheckFetchVersion(short version) => version < 4 ? UnsupportedVersion : (short)0;

    /// <summary>Produce v3+ must carry exactly magic-2 batches; anything else is INVALID_RECORD.</summary>
    public static short CheckProduceRecords(ReadOnlySpan<byte> records) =>
        records.Length > RecordBatch.MagicOffset && records[RecordBatch.MagicOffset] != RecordBatch.CurrentMagic ? InvalidRecord : (short)0;
}
