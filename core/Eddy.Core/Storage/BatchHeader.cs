using System.Buffers.Binary;
using Eddy.Hashing;

namespace Eddy.Storage;

/// <summary>What a batch check found.</summary>
public enum BatchCheck
{
    Ok,
    /// <summary>The bytes end before the batch does (a torn tail, or a read that stopped short).</summary>
    Incomplete,
    /// <summary>The length field is below the header size or above the largest batch storage accepts.</summary>
    BadLength,
    BadMagic,
    /// <summary>lastOffsetDelta is negative.</summary>
    BadOffsets,
    BadCrc,
}

/// <summary>
/// The few fields of a record batch v2 header that the log needs, read in place (big-endian). Storage stores
/// batches exactly as on the wire and never looks at records, so this is all it parses; the Kafka codec owns
/// the full format.
/// </summary>
public readonly ref struct BatchHeader
{
    public const int BaseOffsetAt = 0;
    public const int LengthAt = 8;
    public const int LeaderEpochAt = 12;
    public const int MagicAt = 16;
    public const int CrcAt = 17;
    public const int AttributesAt = 21;
    public const int LastOffsetDeltaAt = 23;
    public const int FirstTimestampAt = 27;
    public const int MaxTimestampAt = 35;
    public const int RecordCountAt = 57;

    /// <summary>Bytes before the length field's count starts (baseOffset, batchLength).</summary>
    public const int LogOverhead = 12;

    /// <summary>A batch with no records: the smallest a valid batch can be.</summary>
    public const int HeaderSize = 61;

    /// <summary>Largest batch storage accepts: the biggest pooled buffer less two pages of slack for the tail.</summary>
    public const int MaxBatchSize = Buffers.BufferPool.MaxSize - 2 * 4096;

    public const byte CurrentMagic = 2;

    /// <summary>Attribute bit 3: timestamps are LogAppendTime.</summary>
    public const short LogAppendTimeFlag = 1 << 3;

    private readonly ReadOnlySpan<byte> _data;

    public BatchHeader(ReadOnlySpan<byte> batch) => _data = batch;

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

    public long FirstTimestamp => BinaryPrimitives.ReadInt64BigEndian(_data[FirstTimestampAt..]);

    public long MaxTimestamp => BinaryPrimitives.ReadInt64BigEndian(_data[MaxTimestampAt..]);

    public int RecordCount => BinaryPrimitives.ReadInt32BigEndian(_data[RecordCountAt..]);

    /// <summary>
    /// Checks the batch at the start of <paramref name="data"/>: length bounds, magic, offsets and (when asked)
    /// CRC-32C over attributes..end. <paramref name="size"/> is the batch's total size when the length field
    /// could be read, else 0.
    /// </summary>
    public static BatchCheck Check(ReadOnlySpan<byte> data, bool verifyCrc, out int size)
    {
        size = 0;
        if (data.Length < LogOverhead)
        {
            return BatchCheck.Incomplete;
        }
        int length = BinaryPrimitives.ReadInt32BigEndian(data[LengthAt..]);
        if (length < HeaderSize - LogOverhead || length > MaxBatchSize - LogOverhead)
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
