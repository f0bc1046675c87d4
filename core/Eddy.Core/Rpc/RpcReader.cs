using System.Buffers.Binary;
using System.Text;

namespace Eddy.Rpc;

/// <summary>Reads a frame's payload, big-endian, refusing any read past its end or any count that the bytes left
/// cannot hold, before anything is allocated (<see cref="RpcFormatException"/>).</summary>
public ref struct RpcReader(ReadOnlySpan<byte> payload)
{
    private readonly ReadOnlySpan<byte> _payload = payload;
    private int _at;

    public readonly int Remaining => _payload.Length - _at;

    public byte ReadByte() => Take(1)[0];

    public bool ReadBool() => ReadByte() switch
    {
        0 => false,
        1 => true,
        var b => throw new RpcFormatException($"a boolean is 0 or 1, not {b}"),
    };

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    /// <summary>A count of items of at least <paramref name="minItemBytes"/> each, checked against the bytes left.</summary>
    public int ReadCount(int minItemBytes)
    {
        int count = ReadInt32();
        if (count < 0 || (long)count * minItemBytes > Remaining)
        {
            throw new RpcFormatException($"a count of {count} items of at least {minItemBytes} bytes does not fit the {Remaining} bytes left");
        }
        return count;
    }

    /// <summary>Values after an int32 count of at most <paramref name="maxCount"/> (node ids).</summary>
    public int[] ReadInt32s(int maxCount)
    {
        int count = ReadCount(4);
        if (count > maxCount)
        {
            throw new RpcFormatException($"{count} values, at most {maxCount}");
        }
        var values = new int[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = ReadInt32();
        }
        return values;
    }

    /// <summary>A UTF-8 string of at most <paramref name="maxBytes"/> bytes, after an int16 length.</summary>
    public string ReadString(int maxBytes)
    {
        short length = ReadInt16();
        if (length < 0 || length > maxBytes)
        {
            throw new RpcFormatException($"a string of {length} bytes is outside 0..{maxBytes}");
        }
        return Encoding.UTF8.GetString(Take(length));
    }

    /// <summary>Length-prefixed bytes, as a view of the payload (valid while it is).</summary>
    public ReadOnlySpan<byte> ReadSpan()
    {
        int length = ReadInt32();
        if (length < 0 || length > Remaining)
        {
            throw new RpcFormatException($"{length} bytes announced, {Remaining} left");
        }
        return Take(length);
    }

    /// <summary>Bytes after an int32 length; a copy, so it outlives the receive buffer.</summary>
    public byte[] ReadBytes()
    {
        int length = ReadInt32();
        if (length < 0 || length > Remaining)
        {
            throw new RpcFormatException($"{length} bytes announced, {Remaining} left");
        }
        return Take(length).ToArray();
    }

    /// <summary>Asserts the payload was read to its end: trailing bytes mean sender and reader disagree.</summary>
    public readonly void End()
    {
        if (Remaining != 0)
        {
            throw new RpcFormatException($"{Remaining} bytes left after the message");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
        {
            throw new RpcFormatException($"{count} bytes wanted, {Remaining} left");
        }
        var taken = _payload.Slice(_at, count);
        _at += count;
        return taken;
    }
}
