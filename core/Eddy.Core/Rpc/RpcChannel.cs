using System.Buffers;
using Eddy.Net;

namespace Eddy.Rpc;

/// <summary>The result of waiting for a frame: its status, and on <see cref="RpcFrameStatus.Ok"/> the frame, whose
/// payload stays readable through <see cref="RpcChannel.Payload"/> until the next read.</summary>
public readonly record struct RpcRead(RpcFrameStatus Status, RpcFrame Frame, bool PeerClosed)
{
    public bool IsFrame => Status == RpcFrameStatus.Ok && !PeerClosed;
}

/// <summary>
/// Frames over one connection, on its shard: reads whole frames into a pooled buffer that grows up to the frame limit
/// (checked before it grows), and sends frames one at a time (the caller awaits each send before the next).
/// </summary>
public sealed class RpcChannel : IDisposable
{
    private const int InitialBufferBytes = 16 << 10;

    private readonly Connection _connection;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
    private int _start;
    private int _end;
    private int _frameStart;

    public RpcChannel(Connection connection, int maxFrameBytes)
    {
        _connection = connection;
        MaxFrameBytes = maxFrameBytes;
    }

    public Connection Connection => _connection;

    /// <summary>The largest frame the next reads accept: small until the handshake is done, so that a stranger cannot
    /// make the node hold a large buffer for it.</summary>
    public int MaxFrameBytes { get; set; }

    /// <summary>The next frame, or why there is none (a bad frame, or the peer closed).</summary>
    public async ValueTask<RpcRead> ReadAsync()
    {
        while (true)
        {
            var status = RpcFrame.TryRead(_buffer.AsSpan(_start, _end - _start), MaxFrameBytes, out var frame, out int consumed);
            if (status == RpcFrameStatus.Ok)
            {
                _frameStart = _start;
                _start += consumed;
                return new RpcRead(status, frame, PeerClosed: false);
            }
            if (status != RpcFrameStatus.Incomplete)
            {
                return new RpcRead(status, frame, PeerClosed: false);
            }
            MakeRoom();
            int received = await _connection.ReceiveAsync(_buffer.AsMemory(_end));
            if (received == 0)
            {
                return new RpcRead(RpcFrameStatus.Incomplete, default, PeerClosed: true);
            }
            _end += received;
        }
    }

    /// <summary>The payload of the frame the last read returned.</summary>
    public ReadOnlySpan<byte> Payload(in RpcFrame frame) => _buffer.AsSpan(_frameStart + frame.PayloadOffset, frame.PayloadLength);

    public ValueTask SendAsync(RpcMessageType type, int correlation, RpcWriter payload)
        => _connection.SendAsync(RpcFrame.Encode(type, correlation, payload.Written));

    /// <summary>Moves a partial frame to the front, and grows the buffer when the frame will not fit (its length was
    /// already checked against the limit, or fewer than 4 bytes are in).</summary>
    private void MakeRoom()
    {
        int pending = _end - _start;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            _start = 0;
            _end = pending;
        }
        if (_end < _buffer.Length)
        {
            return;
        }
        int needed = pending >= 4 ? 4 + System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(_buffer) : _buffer.Length * 2;
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, pending).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
