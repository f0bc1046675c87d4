using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Eddy.Rpc;

/// <summary>Writes a frame's payload, big-endian, in the layouts <see cref="RpcReader"/> reads. Reusable: <see cref="Clear"/>
/// keeps the buffer.</summary>
public sealed class RpcWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    public void Clear() => _buffer.Clear();

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteBool(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void WriteString(string value, int maxBytes)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > maxBytes)
        {
            throw new ArgumentException($"'{value}' is {length} bytes of UTF-8, more than {maxBytes}", nameof(value));
        }
        WriteInt16((short)length);
        _buffer.Advance(Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length)));
    }

    /// <summary>An int32 count, then the values (node ids).</summary>
    public void WriteInt32s(ReadOnlySpan<int> values)
    {
        WriteInt32(values.Length);
        foreach (int value in values)
        {
            WriteInt32(value);
        }
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
    }
}
