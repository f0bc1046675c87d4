using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Eddy.Rpc;

/// <summary>Writes a frame's payload, big-endian, in the layouts <see cref="RpcReader"/> reads. Reusable: <see cref="Clear"/>
/// keeps the buffer. Between <see cref="BeginFrame"/> and <see cref="EndFrame"/> it writes straight into a frame's
/// buffer instead, after its header, so a payload of megabytes is copied once, not twice.</summary>
public sealed class RpcWriter
{
    private readonly ArrayBufferWriter<byte> _own = new(256);
    private IBufferWriter<byte> _buffer;
    private readonly FrameTarget _frame = new();

    public RpcWriter() => _buffer = _own;

    public ReadOnlySpan<byte> Written => _buffer == _own ? _own.WrittenSpan : _frame.Payload;

    public void Clear() => _own.Clear();

    /// <summary>From now on writes go into <paramref name="frame"/>, after <see cref="RpcFrame.HeaderBytes"/>; it must
    /// hold the whole payload (the caller knows its length: it does not grow).</summary>
    public void BeginFrame(byte[] frame)
    {
        _frame.Start(frame);
        _buffer = _frame;
    }

    /// <summary>Ends <see cref="BeginFrame"/>: the payload's length. Writes go to this writer's own buffer again.</summary>
    public int EndFrame()
    {
        int length = _frame.Payload.Length;
        _frame.Start(null);
        _buffer = _own;
        return length;
    }

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

    /// <summary>Bytes with no length before them: the reader knows it from elsewhere (a frame's tail).</summary>
    public void WriteUnprefixed(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
    }

    /// <summary>A frame's buffer as the target of writes, after its header; never grows.</summary>
    private sealed class FrameTarget : IBufferWriter<byte>
    {
        private byte[]? _frame;
        private int _at;

        public ReadOnlySpan<byte> Payload => _frame.AsSpan(RpcFrame.HeaderBytes, _at - RpcFrame.HeaderBytes);

        public void Start(byte[]? frame)
        {
            _frame = frame;
            _at = RpcFrame.HeaderBytes;
        }

        public void Advance(int count) => _at += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => _frame.AsMemory(_at, Room(sizeHint));

        public Span<byte> GetSpan(int sizeHint = 0) => _frame.AsSpan(_at, Room(sizeHint));

        private int Room(int sizeHint)
        {
            int room = _frame!.Length - _at;
            if (room < Math.Max(sizeHint, 1))
            {
                throw new InvalidOperationException($"a frame of {_frame.Length} bytes has no room for {sizeHint} more at {_at}");
            }
            return room;
        }
    }
}
