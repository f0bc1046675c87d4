using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Eddy.Kafka.Protocol;

/// <summary>
/// Reads Kafka wire primitives from one contiguous frame. Records fields come back as slices of the
/// frame (no copy), so the frame's memory must outlive the decoded message. Every length is checked
/// against the bytes that remain and against <see cref="ProtocolLimits"/> before anything is allocated;
/// every failure is a <see cref="KafkaProtocolException"/> naming the offset.
/// </summary>
public ref struct KafkaReader
{
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly ReadOnlySpan<byte> _span;
    private readonly long _baseOffset;
    private int _pos;
    private int _end; // moves in while a known tagged field is read, so it cannot overrun its size

    public KafkaReader(ReadOnlyMemory<byte> memory, ProtocolLimits? limits = null, long baseOffset = 0)
    {
        _memory = memory;
        _span = memory.Span;
        _end = memory.Length;
        _baseOffset = baseOffset;
        Limits = limits ?? ProtocolLimits.Default;
    }

    /// <summary>
    /// A reader over a span only (record bodies inside a batch): everything but records fields works,
    /// since a records field hands out a slice of the frame's memory.
    /// </summary>
    public static KafkaReader OverSpan(ReadOnlySpan<byte> span, long baseOffset = 0) => new(span, baseOffset);

    private KafkaReader(ReadOnlySpan<byte> span, long baseOffset)
    {
        _span = span;
        _end = span.Length;
        _baseOffset = baseOffset;
        Limits = ProtocolLimits.Default;
    }

    public ProtocolLimits Limits { get; }
    public readonly int Position => _pos;
    public readonly int Remaining => _end - _pos;
    public readonly bool IsAtEnd => _pos == _end;

    public static void CheckVersion(string message, short version, short lo, short hi)
    {
        if (version < lo || version > hi)
            KafkaProtocolException.Throw($"{message} has no version {version} (supported {lo}-{hi})", -1, KafkaProtocolException.UnsupportedVersion);
    }

    /// <summary>Fails unless the whole frame was consumed: trailing bytes mean the sender and we disagree on the layout.</summary>
    public readonly void ExpectEnd(string what)
    {
        if (_pos != _end) Fail($"{_end - _pos} unexpected trailing bytes after {what}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int n)
    {
        if ((uint)n > (uint)(_end - _pos)) Truncated(n);
        var s = _span.Slice(_pos, n);
        _pos += n;
        return s;
    }

    private readonly void Truncated(int n) => Fail($"truncated: needed {n} bytes, {_end - _pos} left");

    public readonly void Fail(string what) => KafkaProtocolException.Throw(what, _baseOffset + _pos);

    public void Skip(int n) => Take(n);
    /// <summary>The next n bytes, in place.</summary>
    public ReadOnlySpan<byte> ReadSpan(int n) => Take(n);
    public sbyte ReadInt8() => (sbyte)Take(1)[0];
    public bool ReadBool() => Take(1)[0] != 0;
    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));
    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));
    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
    public double ReadFloat64() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));
    /// <summary>Kafka's UUID is 16 bytes, most significant first; Guid's big-endian form keeps that order.</summary>
    public Guid ReadUuid() => new(Take(16), bigEndian: true);

    /// <summary>Unsigned LEB128 (compact lengths, tags). At most 5 bytes; a fifth byte above 0x0F overflows.</summary>
    public uint ReadUnsignedVarInt()
    {
        uint result = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (_pos >= _end) Truncated(1);
            byte b = _span[_pos++];
            if (shift == 28 && b > 0x0F) Fail("unsigned varint longer than 32 bits");
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        Fail("unsigned varint longer than 5 bytes");
        return 0;
    }

    /// <summary>A length prefix: int16/int32 classic, or unsigned varint holding length+1 when compact. -1 is null.</summary>
    private int ReadLength(bool compact, bool shortLength)
    {
        if (compact)
        {
            uint raw = ReadUnsignedVarInt();
            return raw > int.MaxValue ? BadLength(raw) : (int)raw - 1;
        }
        return shortLength ? ReadInt16() : ReadInt32();
    }

    private readonly int BadLength(long len)
    {
        Fail($"length {len} out of range");
        return 0;
    }

    /// <summary>Validates a length before use: null only where allowed, never negative otherwise, within the frame and the limit.</summary>
    private readonly int CheckLength(int len, bool allowNull, int limit, string what)
    {
        if (len < 0)
        {
            if (len == -1 && allowNull) return -1;
            Fail(len == -1 ? $"null {what} where the schema does not allow null" : $"negative {what} length {len}");
        }
        if (len > _end - _pos) Fail($"{what} length {len} exceeds the {_end - _pos} bytes left");
        if (len > limit) Fail($"{what} length {len} exceeds the configured maximum {limit}");
        return len;
    }

    public string ReadString(bool compact) => ReadNullableString(compact, false)!;

    public string? ReadNullableString(bool compact, bool allowNull)
    {
        int len = CheckLength(ReadLength(compact, shortLength: true), allowNull, Limits.MaxStringBytes, "string");
        return len < 0 ? null : len == 0 ? "" : Encoding.UTF8.GetString(Take(len));
    }

    public byte[] ReadBytes(bool compact) => ReadNullableBytes(compact, false)!;

    public byte[]? ReadNullableBytes(bool compact, bool allowNull)
    {
        int len = CheckLength(ReadLength(compact, shortLength: false), allowNull, Limits.MaxBytesLength, "bytes");
        return len < 0 ? null : len == 0 ? [] : Take(len).ToArray();
    }

    /// <summary>A records field: a slice of the frame, not a copy.</summary>
    public ReadOnlyMemory<byte>? ReadRecords(bool compact, bool allowNull)
    {
        int len = CheckLength(ReadLength(compact, shortLength: false), allowNull, Limits.MaxFrameBytes, "records");
        if (len < 0) return null;
        if (_memory.Length != _span.Length) Fail("records field read through a span-only reader");
        var slice = _memory.Slice(_pos, len);
        _pos += len;
        return slice;
    }

    /// <summary>An array count, bounded by the bytes left (every element takes at least one) and the limit.</summary>
    public int ReadArrayLength(bool compact, bool allowNull) =>
        CheckLength(ReadLength(compact, shortLength: false), allowNull, Limits.MaxArrayLength, "array");

    /// <summary>The int8 that precedes a nullable struct: negative means null.</summary>
    public bool ReadNullMarker() => ReadInt8() < 0;

    public int ReadTagCount()
    {
        uint n = ReadUnsignedVarInt();
        // Each tagged field takes at least two bytes (tag and size).
        if (n > (uint)(_end - _pos) / 2 || n > (uint)Limits.MaxTaggedFields) Fail($"tagged field count {n} out of range");
        return (int)n;
    }

    public int ReadTag()
    {
        uint tag = ReadUnsignedVarInt();
        if (tag > int.MaxValue) Fail($"tag {tag} out of range");
        return (int)tag;
    }

    public int ReadTagSize()
    {
        uint size = ReadUnsignedVarInt();
        if (size > (uint)(_end - _pos)) Fail($"tagged field size {size} exceeds the {_end - _pos} bytes left");
        return (int)size;
    }

    /// <summary>Confines reading to the next size bytes (a known tagged field); returns what PopLimit needs.</summary>
    public int PushLimit(int size)
    {
        int old = _end;
        _end = _pos + size;
        return old;
    }

    public void PopLimit(int oldEnd)
    {
        if (_pos != _end) Fail($"tagged field declared {_end - _pos} more bytes than its value used");
        _end = oldEnd;
    }

    public RawTaggedField ReadRawTag(int tag, int size) => new(tag, Take(size).ToArray());

    /// <summary>The bytes not yet read, as a slice of the frame.</summary>
    public readonly ReadOnlyMemory<byte> RemainingMemory => _memory[_pos.._end];
}
