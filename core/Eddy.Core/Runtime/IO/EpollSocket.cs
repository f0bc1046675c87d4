using Eddy.Native;

namespace Eddy.Runtime.IO;

/// <summary>
/// A connection on epoll (edge-triggered). Each operation first tries the non-blocking call; only on EAGAIN does
/// it park until epoll reports the socket ready, then tries again.
/// </summary>
internal sealed class EpollSocket : SocketIo
{
    private readonly EpollBackend _backend;
    private readonly int _fd;
    private readonly int _slot;
    private IoOperation? _receiver;
    private IoOperation? _sender;
    private bool _closed;
    private bool _detached;

    public EpollSocket(EpollBackend backend, int fd)
    {
        _backend = backend;
        _fd = fd;
        _slot = backend.Slots.Add(this);
        backend.Epoll.Add(fd, Epoll.In | Epoll.Out | Epoll.RdHup | Epoll.EdgeTriggered, (ulong)_slot);
    }

    internal void OnReady(uint events)
    {
        if (_receiver is not null && (events & (Epoll.In | Epoll.Hup | Epoll.Err | Epoll.RdHup)) != 0)
        {
            TryReceive();
        }
        if (_sender is not null && (events & (Epoll.Out | Epoll.Hup | Epoll.Err)) != 0)
        {
            TrySend();
        }
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> destination)
    {
        if (_receiver is not null)
        {
            throw new InvalidOperationException("a receive is already pending on this connection");
        }
        if (_closed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        int n = Sockets.Recv(_fd, destination.Span);
        if (n != -Errno.EAGAIN)
        {
            return new ValueTask<int>(n);
        }
        _receiver = _backend.RentOperation(IoKind.Receive);
        _receiver.Memory = destination;
        return _receiver.AsValueTask();
    }

    private void TryReceive()
    {
        var op = _receiver!;
        int n = Sockets.Recv(_fd, op.Memory.Span);
        if (n == -Errno.EAGAIN)
        {
            return;
        }
        _receiver = null;
        op.Complete(n);
    }

    public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> source)
    {
        if (_sender is not null)
        {
            throw new InvalidOperationException("a send is already pending on this connection");
        }
        if (_closed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        int n = Sockets.Send(_fd, source.Span);
        if (n != -Errno.EAGAIN)
        {
            return new ValueTask<int>(n);
        }
        _sender = _backend.RentOperation(IoKind.Send);
        _sender.Memory = System.Runtime.InteropServices.MemoryMarshal.AsMemory(source);
        return _sender.AsValueTask();
    }

    /// <summary>Waits for the socket to become writable (used by connect); 0 or -ECANCELED.</summary>
    internal ValueTask<int> WaitWritableAsync()
    {
        _sender = _backend.RentOperation(IoKind.Connect);
        return _sender.AsValueTask();
    }

    private void TrySend()
    {
        var op = _sender!;
        if (op.Kind == IoKind.Connect)
        {
            _sender = null;
            op.Complete(0);
            return;
        }
        int n = Sockets.Send(_fd, op.Memory.Span);
        if (n == -Errno.EAGAIN)
        {
            return;
        }
        _sender = null;
        op.Complete(n);
    }

    public override void Close()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        Detach();
        Sockets.Close(_fd);
    }

    /// <summary>Stops watching the descriptor and fails pending operations, leaving the descriptor open.</summary>
    internal void Detach()
    {
        if (_detached)
        {
            return;
        }
        _detached = true;
        _backend.Epoll.Remove(_fd);
        _backend.Slots.Free(_slot);
        if (_receiver is { } r)
        {
            _receiver = null;
            r.Complete(-Errno.ECANCELED);
        }
        if (_sender is { } s)
        {
            _sender = null;
            s.Complete(-Errno.ECANCELED);
        }
    }
}
