using Eddy.Native;

namespace Eddy.Runtime.IO;

/// <summary>A listening socket on epoll: accept4 when readable.</summary>
internal sealed class EpollListener : ListenerIo
{
    private readonly EpollBackend _backend;
    private readonly int _fd;
    private readonly int _slot;
    private IoOperation? _waiter;
    private bool _closed;

    public EpollListener(EpollBackend backend, int fd)
    {
        _backend = backend;
        _fd = fd;
        _slot = backend.Slots.Add(this);
        backend.Epoll.Add(fd, Epoll.In | Epoll.EdgeTriggered, (ulong)_slot);
    }

    internal void OnReady()
    {
        if (_waiter is null)
        {
            return;
        }
        int fd = Sockets.Accept(_fd);
        if (fd == -Errno.EAGAIN)
        {
            return;
        }
        var waiter = _waiter;
        _waiter = null;
        waiter.Complete(fd);
    }

    public override ValueTask<int> AcceptAsync()
    {
        if (_waiter is not null)
        {
            throw new InvalidOperationException("an accept is already pending on this listener");
        }
        if (_closed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        int fd = Sockets.Accept(_fd);
        if (fd != -Errno.EAGAIN)
        {
            return new ValueTask<int>(fd);
        }
        _waiter = _backend.RentOperation(IoKind.Accept);
        return _waiter.AsValueTask();
    }

    public override void Close()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        _backend.Epoll.Remove(_fd);
        _backend.Slots.Free(_slot);
        Sockets.Close(_fd);
        if (_waiter is { } waiter)
        {
            _waiter = null;
            waiter.Complete(-Errno.ECANCELED);
        }
    }
}
