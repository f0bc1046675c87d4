using System.Buffers.Binary;
using Eddy.Hashing;

namespace Eddy.Cluster.Producers;

/// <summary>A producer snapshot file that cannot be trusted: the loader reports it and replays the log instead.</summary>
public sealed class CorruptSnapshotException(string message) : Exception(message);

/// <summary>
/// The bytes of a producer state snapshot (big-endian), checked whole by a CRC-32C:
/// <code>
/// magic "EPST" | version int16 = 1 | crc uint32 (of everything after it) | offset int64 | producers int32
/// per producer: id int64 | epoch int16 | last timestamp int64 | batches int8 (0..5)
///   per batch (oldest first): first sequence int32 | last sequence int32 | base offset int64 | last offset int64 | max timestamp int64
/// </code>
/// Unlike Kafka's snapshot (which keeps only the last batch of each producer), all retained batches are kept, so a
/// retry of any of the last five batches is still recognised after a restart.
/// </summary>
internal static class ProducerSnapshotFormat
{
    private const uint Magic = 0x45505354; // "EPST"
    private const short Version = 1;
    private const int CrcAt = 6;
    private const int HeaderSize = 22;
    private const int EntryHeaderSize = 19;
    private const int BatchSize = 32;

    /// <summary>Largest snapshot read back; anything bigger is treated as damage rather than allocated.</summary>
    public const int MaxBytes = 256 << 20;

    public static byte[] Serialize(ProducerStateTable table, long offset)
    {
        int size = HeaderSize;
        foreach (var entry in table.Producers)
        {
            size += EntryHeaderSize + entry.BatchCount * BatchSize;
        }
        var bytes = new byte[size];
        var s = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(s, Magic);
        BinaryPrimitives.WriteInt16BigEndian(s[4..], Version);
        BinaryPrimitives.WriteInt64BigEndian(s[10..], offset);
        BinaryPrimitives.WriteInt32BigEndian(s[18..], table.Count);
        int at = HeaderSize;
        foreach (var entry in table.Producers)
        {
            BinaryPrimitives.WriteInt64BigEndian(s[at..], entry.ProducerId);
            BinaryPrimitives.WriteInt16BigEndian(s[(at + 8)..], entry.Epoch);
            BinaryPrimitives.WriteInt64BigEndian(s[(at + 10)..], entry.LastTimestamp);
            s[at + 18] = (byte)entry.BatchCount;
            at += EntryHeaderSize;
            for (int i = 0; i < entry.BatchCount; i++)
            {
                var batch = entry.GetBatch(i);
                BinaryPrimitives.WriteInt32BigEndian(s[at..], batch.FirstSequence);
                BinaryPrimitives.WriteInt32BigEndian(s[(at + 4)..], batch.LastSequence);
                BinaryPrimitives.WriteInt64BigEndian(s[(at + 8)..], batch.BaseOffset);
                BinaryPrimitives.WriteInt64BigEndian(s[(at + 16)..], batch.LastOffset);
                BinaryPrimitives.WriteInt64BigEndian(s[(at + 24)..], batch.MaxTimestamp);
                at += BatchSize;
            }
        }
        BinaryPrimitives.WriteUInt32BigEndian(s[CrcAt..], Crc32C.Compute(s[(CrcAt + 4)..]));
        return bytes;
    }

    /// <summary>Fills <paramref name="into"/> (which should be empty) from a snapshot that must say it was taken at
    /// <paramref name="expectedOffset"/>; throws <see cref="CorruptSnapshotException"/> on any inconsistency.</summary>
    public static void Parse(ReadOnlySpan<byte> s, long expectedOffset, ProducerStateTable into)
    {
        if (s.Length < HeaderSize)
        {
            throw new CorruptSnapshotException($"{s.Length} bytes, shorter than the {HeaderSize}-byte header");
        }
        if (BinaryPrimitives.ReadUInt32BigEndian(s) != Magic)
        {
            throw new CorruptSnapshotException("not a producer snapshot (bad magic)");
        }
        short version = BinaryPrimitives.ReadInt16BigEndian(s[4..]);
        if (version != Version)
        {
            throw new CorruptSnapshotException($"unknown snapshot version {version}");
        }
        uint stored = BinaryPrimitives.ReadUInt32BigEndian(s[CrcAt..]);
        uint computed = Crc32C.Compute(s[(CrcAt + 4)..]);
        if (stored != computed)
        {
            throw new CorruptSnapshotException($"CRC mismatch: stored {stored:x8}, computed {computed:x8}");
        }
        long offset = BinaryPrimitives.ReadInt64BigEndian(s[10..]);
        if (offset != expectedOffset)
        {
            throw new CorruptSnapshotException($"taken at offset {offset}, but named for {expectedOffset}");
        }
        int count = BinaryPrimitives.ReadInt32BigEndian(s[18..]);
        if (count < 0 || count > (s.Length - HeaderSize) / EntryHeaderSize)
        {
            throw new CorruptSnapshotException($"producer count {count} does not fit {s.Length} bytes");
        }
        int at = HeaderSize;
        for (int p = 0; p < count; p++)
        {
            if (s.Length - at < EntryHeaderSize)
            {
                throw new CorruptSnapshotException($"producer {p} of {count} is cut off at byte {at}");
            }
            long producerId = BinaryPrimitives.ReadInt64BigEndian(s[at..]);
            short epoch = BinaryPrimitives.ReadInt16BigEndian(s[(at + 8)..]);
            long lastTimestamp = BinaryPrimitives.ReadInt64BigEndian(s[(at + 10)..]);
            int batches = s[at + 18];
            at += EntryHeaderSize;
            if (producerId < 0 || batches > ProducerEntry.RetainedBatches || s.Length - at < batches * BatchSize)
            {
                throw new CorruptSnapshotException($"producer {p} of {count} (id {producerId}, {batches} batches) is malformed at byte {at}");
            }
            var entry = into.Restore(producerId, epoch);
            for (int i = 0; i < batches; i++)
            {
                var batch = new ProducerBatch(
                    BinaryPrimitives.ReadInt32BigEndian(s[at..]),
                    BinaryPrimitives.ReadInt32BigEndian(s[(at + 4)..]),
                    BinaryPrimitives.ReadInt64BigEndian(s[(at + 8)..]),
                    BinaryPrimitives.ReadInt64BigEndian(s[(at + 16)..]),
                    BinaryPrimitives.ReadInt64BigEndian(s[(at + 24)..]));
                if (batch.FirstSequence < 0 || batch.LastSequence < 0 || batch.BaseOffset < 0 || batch.LastOffset < batch.BaseOffset || batch.LastOffset >= offset)
                {
                    throw new CorruptSnapshotException($"producer {producerId} holds an impossible batch {batch} for a snapshot at offset {offset}");
                }
                entry.Add(epoch, batch);
                at += BatchSize;
            }
            entry.SetLastTimestamp(lastTimestamp);
        }
        if (at != s.Length)
        {
            throw new CorruptSnapshotException($"{s.Length - at} bytes after the last producer");
        }
    }
}
