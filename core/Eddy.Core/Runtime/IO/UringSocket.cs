using Eddy.Native;
using Eddy.Native.IoUring;
using static Eddy.Native.IoUring.IoUringConstants;

namespace Eddy.Runtime.IO;

/// <summary>
/// A connection on io_uring. One multishot RECV stays armed for the connection's life and fills buffers from
/// the shard's provided-buffer ring; <see cref="ReceiveAsync"/> copies out of them and hands each buffer back as
/// soon as it is drained, so a connection holds ring buffers only while its reader is behind. A reader that falls
/// behind by <see cref="MaxHeldBuffers"/> pauses its RECV (cancelled, the data waits in the kernel and TCP slows the
/// sender) until it has drained half of them: the ring is shared by every connection on the shard, and one busy
/// reader holding all of it would starve the rest (a cluster's heartbeats behind a flood of batches).
/// </summary>
internal sealed unsafe class UringSocket : SocketIo
{
    private readonly UringBackend _backend;
    private readonly int _fd;
    private readonly int _slot;
    private readonly Queue<(ushort Buffer, int Length)> _received = new();
    private int _consumedOfHead;
    private IoOperation? _waiter;
    private Memory<byte> _waiterDestination;
    private bool _armed;
    private bool _pausing; // a cancel of the armed RECV is in flight
    private bool _ended;   // the peer closed (0) or the socket failed
    private int _error;    // -errno once failed
    private bool _closed;

    public UringSocket(UringBackend backend, int fd)
    {
        _backend = backend;
        _fd = fd;
        _slot = backend.Slots.Add(this);
        Arm();
    }

    /// <summary>Ring buffers one connection may hold before its RECV pauses: 16 of the ring's 256 (256 KiB).</summary>
    internal const int MaxHeldBuffers = 16;

    private void Arm()
    {
        SqePrep.RecvMultishot(_backend.NextSqe(), _fd, _backend.ReceiveBuffers.GroupId, UserData.Make(UserData.Receive, _slot));
        _armed = true;
    }

    /// <summary>Arms the RECV unless it is armed, the connection is over, or its reader still holds half its share.</summary>
    private void ArmIfWanted()
    {
        if (!_armed && !_closed && !_ended && _received.Count <= MaxHeldBuffers / 2)
        {
            Arm();
        }
    }

    private void PauseIfBehind()
    {
        if (_armed && !_pausing && _received.Count >= MaxHeldBuffers)
        {
            SqePrep.Cancel(_backend.NextSqe(), UserData.Make(UserData.Receive, _slot), UserData.Make(UserData.Ignore, 0));
            _pausing = true;
        }
    }

    internal void RearmAfterStarvation() => ArmIfWanted();

    internal void OnReceive(int res, uint flags)
    {
        if ((flags & CqeFBuffer) != 0)
        {
            ushort bufferId = (ushort)(flags >> CqeBufferShift);
            if (res > 0 && !_closed)
            {
                _received.Enqueue((bufferId, res));
            }
            else
            {
                _backend.RecycleReceiveBuffer(bufferId);
            }
        }
        bool more = (flags & CqeFMore) != 0;
        bool paused = false;
        if (!more)
        {
            _armed = false;
            paused = _pausing;
            _pausing = false;
        }
        if (res == -Errno.ECANCELED && paused)
        {
            ArmIfWanted(); // ended by PauseIfBehind, not failed; the reader may have caught up meanwhile
        }
        else if (res == 0)
        {
            _ended = true;
        }
        else if (res == -Errno.ENOBUFS)
        {
            // Every ring buffer is waiting in some connection's queue: resume once one comes back.
            if (!_armed && !_closed)
            {
                _backend.AddStarved(this);
            }
        }
        else if (res < 0 && !_ended)
        {
            _ended = true;
            _error = res;
        }
        else if (!more)
        {
            ArmIfWanted(); // the kernel ends a multishot now and then (for example on CQ overflow): re-arm
        }
        PauseIfBehind();
        if (_closed && !_armed)
        {
            Release();
            return;
        }
        Deliver();
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> destination)
    {
        if (_waiter is not null)
        {
            throw new InvalidOperationException("a receive is already pending on this connection");
        }
        if (_closed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        if (_received.Count > 0 || _ended || destination.Length == 0)
        {
            return new ValueTask<int>(CopyOut(destination.Span));
        }
        _waiter = _backend.RentOperation(IoKind.Receive);
        _waiterDestination = destination;
        return _waiter.AsValueTask();
    }

    private void Deliver()
    {
        if (_waiter is null || (_received.Count == 0 && !_ended && !_closed))
        {
            return;
        }
        var waiter = _waiter;
        int n = _closed ? -Errno.ECANCELED : CopyOut(_waiterDestination.Span);
        _waiter = null;
        _waiterDestination = default;
        waiter.Complete(n);
    }

    private int CopyOut(Span<byte> destination)
    {
        int copied = 0;
        while (copied < destination.Length && _received.TryPeek(out var head))
        {
            var source = _backend.ReceiveBuffers.Buffer(head.Buffer, head.Length)[_consumedOfHead..];
            int n = Math.Min(source.Length, destination.Length - copied);
            source[..n].CopyTo(destination[copied..]);
            copied += n;
            _consumedOfHead += n;
            if (_consumedOfHead == head.Length)
            {
                _received.Dequeue();
                _consumedOfHead = 0;
                _backend.RecycleReceiveBuffer(head.Buffer);
            }
        }
        ArmIfWanted(); // a paused RECV resumes once the reader has caught up
        if (copied > 0 || destination.Length == 0)
        {
            return copied;
        }
        return _error; // ended: 0 for a clean close, -errno for a failure
    }

    public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> source)
        => _closed ? new ValueTask<int>(-Errno.ECANCELED) : _backend.SendAsync(_fd, source);

    public override void Close()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        Sockets.ShutdownBoth(_fd); // ends the armed RECV with 0; its final completion releases the slot
        while (_received.TryDequeue(out var item))
        {
            _backend.RecycleReceiveBuffer(item.Buffer);
        }
        Deliver();
        if (!_armed)
        {
            Release();
        }
    }

    private void Release()
    {
        _backend.Slots.Free(_slot);
        Sockets.Close(_fd);
    }

    /// <summary>The ring is going away: fail a pending receive and close without waiting for the kernel.</summary>
    internal void Abandon()
    {
        _closed = true;
        _backend.Slots.Free(_slot);
        Deliver();
        Sockets.Close(_fd);
    }
}
