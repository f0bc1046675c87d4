using System.Buffers.Binary;
using Eddy.Hashing;

namespace Eddy.Client.Bench;

/// <summary>
/// The value of a bench message: its id (8 bytes, big-endian), a CRC-32C of the id and the filler, then filler derived
/// from the id. A consumer tells from the value alone which message it is and whether any byte of it changed (the id's
/// bytes included: a changed id must not pass as another message).
/// </summary>
public static class BenchPayload
{
    public const int MinSize = 12;

    public static void Write(Span<byte> value, long id)
    {
        BinaryPrimitives.WriteInt64BigEndian(value, id);
        var filler = value[MinSize..];
        // Eight bytes of xorshift per step: a message of 1 KiB costs 128 steps, not 1,012.
        ulong state = (ulong)id * 0x9E3779B97F4A7C15UL + 1;
        int at = 0;
        for (; at + 8 <= filler.Length; at += 8)
        {
            state = Next(state);
            BinaryPrimitives.WriteUInt64LittleEndian(filler[at..], state);
        }
        state = Next(state);
        for (; at < filler.Length; at++, state >>= 8)
        {
            filler[at] = (byte)state;
        }
        BinaryPrimitives.WriteUInt32BigEndian(value[8..], Checksum(value));
    }

    /// <summary>The CRC-32C of the id and the filler: everything but the checksum's own four bytes.</summary>
    private static uint Checksum(ReadOnlySpan<byte> value) => ~Crc32C.Update(Crc32C.Update(~0u, value[..8]), value[MinSize..]);

    private static ulong Next(ulong state)
    {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }

    /// <summary>The message's id, or -1 when the value is not an intact bench message.</summary>
    public static long Read(ReadOnlySpan<byte> value)
    {
        if (value.Length < MinSize || Checksum(value) != BinaryPrimitives.ReadUInt32BigEndian(value[8..]))
        {
            return -1;
        }
        long id = BinaryPrimitives.ReadInt64BigEndian(value);
        return id >= 0 ? id : -1;
    }
}
