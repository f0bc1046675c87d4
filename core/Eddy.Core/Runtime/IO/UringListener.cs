using Eddy.Native;
using Eddy.Native.IoUring;
using static Eddy.Native.IoUring.IoUringConstants;

namespace Eddy.Runtime.IO;

/// <summary>A listening socket on io_uring: one multishot ACCEPT stays armed and queues new connections.</summary>
internal sealed unsafe class UringListener : ListenerIo
{
    /// <summary>Accepted but not yet taken connections, beyond which new ones are closed (the node is overloaded).</summary>
    private const int MaxQueued = 4096;

    private readonly UringBackend _backend;
    private readonly int _fd;
    private readonly int _slot;
    private readonly Queue<int> _accepted = new();
    private IoOperation? _waiter;
    private bool _armed;
    private bool _closed;

    public UringListener(UringBackend backend, int fd)
    {
        _backend = backend;
        _fd = fd;
        _slot = backend.Slots.Add(this);
        Arm();
    }

    private void Arm()
    {
        SqePrep.Accept(_backend.NextSqe(), _fd, multishot: true, Sockets.AcceptFlags, UserData.Make(UserData.Accept, _slot));
        _armed = true;
    }

    internal void OnAccept(int res, uint flags)
    {
        if ((flags & CqeFMore) == 0)
        {
            _armed = false;
        }
        if (res >= 0)
        {
            if (_closed || _accepted.Count >= MaxQueued)
            {
                Sockets.Close(res);
            }
            else if (_waiter is not null)
            {
                var waiter = _waiter;
                _waiter = null;
                waiter.Complete(res);
            }
            else
            {
                _accepted.Enqueue(res);
            }
        }
        if (_closed)
        {
            if (!_armed)
            {
                Release();
            }
            return;
        }
        if (!_armed)
        {
            Arm(); // errors such as EMFILE end the multishot; keep accepting
        }
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
        if (_accepted.TryDequeue(out int fd))
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
        FailWaiterAndDrain();
        if (_armed)
        {
            SqePrep.Cancel(_backend.NextSqe(), UserData.Make(UserData.Accept, _slot), UserData.Make(UserData.Ignore, 0));
        }
        else
        {
            Release();
        }
    }

    private void FailWaiterAndDrain()
    {
        while (_accepted.TryDequeue(out int fd))
        {
            Sockets.Close(fd);
        }
        if (_waiter is not null)
        {
            var waiter = _waiter;
            _waiter = null;
            waiter.Complete(-Errno.ECANCELED);
        }
    }

    private void Release()
    {
        _backend.Slots.Free(_slot);
        Sockets.Close(_fd);
    }

    internal void Abandon()
    {
        _closed = true;
        FailWaiterAndDrain();
        _backend.Slots.Free(_slot);
        Sockets.Close(_fd);
    }
}
