using System.Buffers.Binary;
using Eddy.Hashing;

namespace Eddy.Records;

/// <summary>
/// The record batch v2 (magic 2) at the start of a span, as clients send it and as the log stores it: header fields
/// are read in place (big-endian) and nothing is copied. The span may run past the batch (a read buffer holding
/// several); the batch is its first <see cref="TotalSize"/> bytes. Only <see cref="Check"/> trusts nothing: the
/// other members assume a batch that passed it.
/// </summary>
public readonly ref struct RecordBatch
{
    public const int BaseOffsetAt = 0;
    public const int LengthAt = 8;
    public const int LeaderEpochAt = 12;
    public const int MagicAt = 16;
    public const int CrcAt = 17;
    public const int AttributesAt = 21;
    public const int LastOffsetDeltaAt = 23;
    public const int BaseTimestampAt = 27;
    public const int MaxTimestampAt = 35;
    public const int ProducerIdAt = 43;
    public const int ProducerEpochAt = 51;
    public const int BaseSequenceAt = 53;
    public const int RecordCountAt = 57;

    /// <summary>Bytes before the length field's count starts (baseOffset, batchLength).</summary>
    public const int LogOverhead = 12;

    /// <summary>A batch with no records: the smallest a valid batch can be.</summary>
    public const int HeaderSize = 61;

    public const byte CurrentMagic = 2;

    public const short CompressionMask = 0x07;
    public const short LogAppendTimeFlag = 0x08;
    public const short TransactionalFlag = 0x10;
    public const short ControlFlag = 0x20;
    public const short DeleteHorizonFlag = 0x40;

    private readonly ReadOnlySpan<byte> _data;

    public RecordBatch(ReadOnlySpan<byte> data) => _data = data;

    public long BaseOffset => BinaryPrimitives.ReadInt64BigEndian(_data);

    /// <summary>The length field: bytes after it.</summary>
    public int Length => BinaryPrimitives.ReadInt32BigEndian(_data[LengthAt..]);

    /// <summary>The whole batch's size in bytes.</summary>
    public int TotalSize => Length + LogOverhead;

    public int PartitionLeaderEpoch => BinaryPrimitives.ReadInt32BigEndian(_data[LeaderEpochAt..]);

    public byte Magic => _data[MagicAt];

    public uint Crc => BinaryPrimitives.ReadUInt32BigEndian(_data[CrcAt..]);

    public short Attributes => BinaryPrimitives.ReadInt16BigEndian(_data[AttributesAt..]);

    public int LastOffsetDelta => BinaryPrimitives.ReadInt32BigEndian(_data[LastOffsetDeltaAt..]);

    public long LastOffset => BaseOffset + LastOffsetDelta;

    public long BaseTimestamp => BinaryPrimitives.ReadInt64BigEndian(_data[BaseTimestampAt..]);

    public long MaxTimestamp => BinaryPrimitives.ReadInt64BigEndian(_data[MaxTimestampAt..]);

    public long ProducerId => BinaryPrimitives.ReadInt64BigEndian(_data[ProducerIdAt..]);

    public short ProducerEpoch => BinaryPrimitives.ReadInt16BigEndian(_data[ProducerEpochAt..]);

    public int BaseSequence => BinaryPrimitives.ReadInt32BigEndian(_data[BaseSequenceAt..]);

    public int RecordCount => BinaryPrimitives.ReadInt32BigEndian(_data[RecordCountAt..]);

    public CompressionType Compression => (CompressionType)(Attributes & CompressionMask);

    public bool IsLogAppendTime => (Attributes & LogAppendTimeFlag) != 0;

    public bool IsTransactional => (Attributes & TransactionalFlag) != 0;

    /// <summary>A control batch (transaction markers, Raft's own entries): consumers skip it.</summary>
    public bool IsControl => (Attributes & ControlFlag) != 0;

    public bool HasDeleteHorizon => (Attributes & DeleteHorizonFlag) != 0;

    /// <summary>The whole batch, header included: what the log stores and Fetch returns.</summary>
    public ReadOnlySpan<byte> Bytes => _data[..TotalSize];

    /// <summary>Everything after the header: the records, compressed as a whole when <see cref="Compression"/> is set.</summary>
    public ReadOnlySpan<byte> Payload => _data[HeaderSize..TotalSize];

    /// <summary>CRC-32C over attributes..end, the part the checksum covers (not offset, length, epoch, magic).</summary>
    public uint ComputeCrc() => Crc32C.Compute(_data[AttributesAt..TotalSize]);

    public bool IsCrcValid => ComputeCrc() == Crc;

    /// <summary>Reads the records of an uncompressed batch; a compressed payload must be decompressed first and read
    /// with a <see cref="RecordReader"/> of its own.</summary>
    public RecordReader ReadRecords() => new(Payload, RecordCount, BaseOffset, BaseTimestamp);

    /// <summary>The batches of a buffer in order; see <see cref="BatchEnumerator"/> for where it stops.</summary>
    public static BatchEnumerator Enumerate(ReadOnlySpan<byte> batches) => new(batches);

    /// <summary>
    /// Checks the batch at the start of <paramref name="data"/>: length bounds (at least a header, at most
    /// <paramref name="maxSize"/> bytes in all), magic, offsets and (when asked) CRC-32C over attributes..end.
    /// <paramref name="size"/> is the batch's total size when the length field could be read, else 0. Reads nothing
    /// outside <paramref name="data"/>, so it is safe on any bytes.
    /// </summary>
    public static BatchCheck Check(ReadOnlySpan<byte> data, bool verifyCrc, out int size, int maxSize = int.MaxValue)
    {
        size = 0;
        if (data.Length < LogOverhead)
        {
            return BatchCheck.Incomplete;
        }
        int length = BinaryPrimitives.ReadInt32BigEndian(data[LengthAt..]);
        if (length < HeaderSize - LogOverhead || length > maxSize - LogOverhead)
        {
            return BatchCheck.BadLength;
        }
        size = length + LogOverhead;
        if (data.Length > MagicAt && data[MagicAt] != CurrentMagic)
        {
            return BatchCheck.BadMagic;
        }
        if (data.Length < size)
        {
            return BatchCheck.Incomplete;
        }
        if (BinaryPrimitives.ReadInt32BigEndian(data[LastOffsetDeltaAt..]) < 0)
        {
            return BatchCheck.BadOffsets;
        }
        if (verifyCrc && Crc32C.Compute(data[AttributesAt..size]) != BinaryPrimitives.ReadUInt32BigEndian(data[CrcAt..]))
        {
            return BatchCheck.BadCrc;
        }
        return BatchCheck.Ok;
    }

    /// <summary>Copies the run of whole batches in <paramref name="source"/> to the start of
    /// <paramref name="destination"/>, checking each as <see cref="Check"/> does, CRC included, in the same pass as the
    /// copy. <see cref="BatchCheck.Ok"/> when every batch passed; otherwise the first failure, and what was copied
    /// must not be used.</summary>
    public static BatchCheck CopyChecked(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        for (int at = 0; at < source.Length;)
        {
            var check = Check(source[at..], verifyCrc: false, out int size);
            if (check != BatchCheck.Ok)
            {
                return check;
            }
            source.Slice(at, AttributesAt).CopyTo(destination[at..]);
            uint crc = Crc32C.CopyAndCompute(source[(at + AttributesAt)..(at + size)], destination[(at + AttributesAt)..]);
            if (crc != BinaryPrimitives.ReadUInt32BigEndian(source[(at + CrcAt)..]))
            {
                return BatchCheck.BadCrc;
            }
            at += size;
        }
        return BatchCheck.Ok;
    }

    /// <summary>Writes the leader-assigned fields in place: base offset and partition leader epoch (neither is
    /// covered by the CRC).</summary>
    public static void Assign(Span<byte> batch, long baseOffset, int leaderEpoch)
    {
        BinaryPrimitives.WriteInt64BigEndian(batch, baseOffset);
        BinaryPrimitives.WriteInt32BigEndian(batch[LeaderEpochAt..], leaderEpoch);
    }

    /// <summary>Marks the batch LogAppendTime with <paramref name="nowMs"/> as its max timestamp, and recomputes the
    /// CRC since both fields are covered by it.</summary>
    public static void SetLogAppendTime(Span<byte> batch, long nowMs)
    {
        short attributes = BinaryPrimitives.ReadInt16BigEndian(batch[AttributesAt..]);
        BinaryPrimitives.WriteInt16BigEndian(batch[AttributesAt..], (short)(attributes | LogAppendTimeFlag));
        BinaryPrimitives.WriteInt64BigEndian(batch[MaxTimestampAt..], nowMs);
        int size = BinaryPrimitives.ReadInt32BigEndian(batch[LengthAt..]) + LogOverhead;
        BinaryPrimitives.WriteUInt32BigEndian(batch[CrcAt..], Crc32C.Compute(batch[AttributesAt..size]));
    }
}
