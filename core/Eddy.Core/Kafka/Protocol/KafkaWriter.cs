using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Eddy.Kafka.Protocol;

/// <summary>
/// Writes Kafka wire primitives into one growable buffer rented from the array pool. It is also an
/// <see cref="IBufferWriter{T}"/>, so compressors write into it directly. Lengths
/// that are only known afterwards (frame size, tagged field size) are patched in place, so a message is
/// encoded in one pass and a records field is copied exactly once, into this buffer.
/// </summary>
public sealed class KafkaWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;

    public KafkaWriter(int initialCapacity = 4096) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));

    public int Length => _length;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);
    public byte[] ToArray() => WrittenSpan.ToArray();
    /// <summary>Already written bytes, writable, for patching lengths and checksums in place.</summary>
    public Span<byte> WrittenForPatch(int start, int length) => _buffer.AsSpan(0, _length).Slice(start, length);
    public void Reset() => _length = 0;

    /// <summary>Drops what was written after <paramref name="length"/> (a response that failed halfway).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _length);
        _length = length;
    }

    public void Dispose()
    {
        var b = _buffer;
        _buffer = [];
        _length = 0;
        if (b.Length > 0) ArrayPool<byte>.Shared.Return(b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int n)
    {
        if (_buffer.Length - _length < n) Grow(n);
        var s = _buffer.AsSpan(_length, n);
        _length += n;
        return s;
    }

    private void Grow(int n)
    {
        long want = Math.Max((long)_buffer.Length * 2, (long)_length + n);
        if (want > Array.MaxLength) want = (long)_length + n;
        if (want > Array.MaxLength) throw new KafkaProtocolException("encoded message exceeds the largest buffer", -1);
        var next = ArrayPool<byte>.Shared.Rent((int)want);
        _buffer.AsSpan(0, _length).CopyTo(next);
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }

    // IBufferWriter: lets Snappier, ZstdSharp and the batch builder write without an intermediate copy.
    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _length)) throw new ArgumentOutOfRangeException(nameof(count));
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_buffer.Length - _length < Math.Max(sizeHint, 1)) Grow(Math.Max(sizeHint, 256));
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void WriteInt8(sbyte v) => Reserve(1)[0] = (byte)v;
    public void WriteBool(bool v) => Reserve(1)[0] = v ? (byte)1 : (byte)0;
    public void WriteInt16(short v) => BinaryPrimitives.WriteInt16BigEndian(Reserve(2), v);
    public void WriteUInt16(ushort v) => BinaryPrimitives.WriteUInt16BigEndian(Reserve(2), v);
    public void WriteInt32(int v) => BinaryPrimitives.WriteInt32BigEndian(Reserve(4), v);
    public void WriteUInt32(uint v) => BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), v);
    public void WriteInt64(long v) => BinaryPrimitives.WriteInt64BigEndian(Reserve(8), v);
    public void WriteFloat64(double v) => BinaryPrimitives.WriteDoubleBigEndian(Reserve(8), v);
    public void WriteUuid(Guid v) => v.TryWriteBytes(Reserve(16), bigEndian: true, out _);
    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    public void WriteUnsignedVarInt(uint v)
    {
        var s = Reserve(VarInts.SizeOfUnsigned(v));
        VarInts.WriteUnsigned(s, v);
    }

    private void WriteNullLength(bool compact, bool shortLength)
    {
        if (compact) WriteUnsignedVarInt(0);
        else if (shortLength) WriteInt16(-1);
        else WriteInt32(-1);
    }

    private void WriteLength(int len, bool compact, bool shortLength)
    {
        if (compact) WriteUnsignedVarInt((uint)len + 1);
        else if (shortLength) WriteInt16((short)len);
        else WriteInt32(len);
    }

    public void WriteString(string? s, bool compact, bool allowNull = false, string field = "string")
    {
        if (s is null)
        {
            if (!allowNull) throw KafkaProtocolException.NullField(field);
            WriteNullLength(compact, shortLength: true);
            return;
        }
        int n = Encoding.UTF8.GetByteCount(s);
        if (!compact && n > short.MaxValue) throw new KafkaProtocolException($"{field} is {n} bytes, over the int16 limit", -1);
        WriteLength(n, compact, shortLength: true);
        Encoding.UTF8.GetBytes(s, Reserve(n));
    }

    public void WriteBytes(byte[]? b, bool compact, bool allowNull = false, string field = "bytes")
    {
        if (b is null)
        {
            if (!allowNull) throw KafkaProtocolException.NullField(field);
            WriteNullLength(compact, shortLength: false);
            return;
        }
        WriteLength(b.Length, compact, shortLength: false);
        WriteRaw(b);
    }

    /// <summary>Writes a records field: stored batch bytes are copied here once and never again.</summary>
    public void WriteRecords(ReadOnlyMemory<byte>? records, bool compact, bool allowNull = true, string field = "records")
    {
        if (records is not { } r)
        {
            if (!allowNull) throw KafkaProtocolException.NullField(field);
            WriteNullLength(compact, shortLength: false);
            return;
        }
        WriteLength(r.Length, compact, shortLength: false);
        WriteRaw(r.Span);
    }

    public void WriteArrayLength(int count, bool compact) => WriteLength(count, compact, shortLength: false);

    public void WriteNullArray(bool compact, bool allowNull, string field)
    {
        if (!allowNull) throw KafkaProtocolException.NullField(field);
        WriteNullLength(compact, shortLength: false);
    }

    public void WriteNullMarker(bool isNull) => WriteInt8(isNull ? (sbyte)-1 : (sbyte)1);

    /// <summary>Starts a size-prefixed region (a frame): returns the mark for <see cref="EndFrame"/>.</summary>
    public int BeginFrame()
    {
        Reserve(4);
        return _length - 4;
    }

    /// <summary>Patches the int32 size of a frame started with <see cref="BeginFrame"/>.</summary>
    public void EndFrame(int mark) => BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(mark, 4), _length - mark - 4);

    /// <summary>Writes the tag and reserves one byte for the size, which is right for nearly every tagged field.</summary>
    public int BeginTagged(int tag)
    {
        WriteUnsignedVarInt((uint)tag);
        Reserve(1);
        return _length - 1;
    }

    /// <summary>Patches the tagged field's size; moves the value right in the rare case the size needs more than a byte.</summary>
    public void EndTagged(int mark)
    {
        int size = _length - mark - 1;
        int width = VarInts.SizeOfUnsigned((uint)size);
        if (width > 1)
        {
            Reserve(width - 1);
            _buffer.AsSpan(mark + 1, size).CopyTo(_buffer.AsSpan(mark + width, size));
        }
        VarInts.WriteUnsigned(_buffer.AsSpan(mark, width), (uint)size);
    }

    /// <summary>Writes the kept unknown tagged fields whose tag is below <paramref name="limit"/>, keeping tags in ascending order.</summary>
    public int WriteRawTagsBelow(List<RawTaggedField>? unknown, int index, int limit)
    {
        if (unknown is null) return index;
        while (index < unknown.Count && unknown[index].Tag < limit)
        {
            var f = unknown[index++];
            WriteUnsignedVarInt((uint)f.Tag);
            WriteUnsignedVarInt((uint)f.Data.Length);
            WriteRaw(f.Data);
        }
        return index;
    }
}

/// <summary>Unsigned LEB128 helpers (compact lengths, tagged fields); record fields use zig-zag varints, <see cref="Eddy.Records.Varint"/>.</summary>
public static class VarInts
{
    public static int SizeOfUnsigned(ulong v)
    {
        int n = 1;
        while (v >= 0x80) { v >>= 7; n++; }
        return n;
    }

    public static int WriteUnsigned(Span<byte> dst, ulong v)
    {
        int i = 0;
        while (v >= 0x80) { dst[i++] = (byte)(v | 0x80); v >>= 7; }
        dst[i++] = (byte)v;
        return i;
    }
}
