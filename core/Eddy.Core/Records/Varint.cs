namespace Eddy.Records;

/// <summary>Zig-zag varints as record batches v2 use them (protobuf style), bounded when read.</summary>
public static class Varint
{
    public static int Size(long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        int n = 1;
        while (v >= 0x80)
        {
            v >>= 7;
            n++;
        }
        return n;
    }

    public static int Write(Span<byte> destination, long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        int i = 0;
        while (v >= 0x80)
        {
            destination[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        destination[i++] = (byte)v;
        return i;
    }

    /// <summary>Reads a varlong; false when the bytes end first, it runs past 10 bytes, or its tenth byte carries
    /// bits beyond 64.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out long value, out int size)
    {
        ulong v = 0;
        for (int i = 0; i < 10 && i < source.Length; i++)
        {
            byte b = source[i];
            if (i == 9 && b > 0x01)
            {
                break;
            }
            v |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                size = i + 1;
                value = (long)(v >> 1) ^ -(long)(v & 1);
                return true;
            }
        }
        value = 0;
        size = 0;
        return false;
    }

    /// <summary>Reads a varint that must fit in 32 bits (lengths, counts, offset deltas).</summary>
    public static bool TryReadInt(ReadOnlySpan<byte> source, out int value, out int size)
    {
        if (TryRead(source, out long wide, out size) && wide == (int)wide)
        {
            value = (int)wide;
            return true;
        }
        value = 0;
        size = 0;
        return false;
    }
}
