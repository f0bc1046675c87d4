using System.Net;
using Eddy.Native;

namespace Eddy.Runtime.IO;

/// <summary>
/// The epoll backend: non-blocking sockets driven by edge-triggered readiness, and file I/O on a worker thread
/// (<see cref="FileWorker"/>). Used where io_uring is refused, or when forced.
/// </summary>
internal sealed class EpollBackend : IoBackend
{
    private const ulong WakeToken = ulong.MaxValue;

    private readonly Shard _shard;
    private readonly Epoll _epoll = new();
    private readonly EventFd _wake = new();
    private readonly FileWorker _files;
    private readonly Stack<IoOperation> _ops = new();
    private readonly SlotTable _slots = new();
    private readonly EpollEvent[] _events = new EpollEvent[256];
    private bool _disposed;

    public EpollBackend(Shard shard)
    {
        _shard = shard;
        _epoll.Add(_wake.Fd, Epoll.In, WakeToken);
        _files = new FileWorker(shard);
    }

    public override string Name => "epoll";

    internal Epoll Epoll => _epoll;

    internal SlotTable Slots => _slots;

    public override void Wake() => _wake.Signal();

    public override void ReleaseWake() => _wake.Dispose();

    public override bool HasReadyCompletions => _files.HasCompletions;

    public override void Poll(long waitNanos)
    {
        int handled = _files.Drain();
        int timeoutMs = waitNanos < 0 || handled > 0 ? 0
            : waitNanos == long.MaxValue ? -1
            : (int)Math.Min(int.MaxValue, (waitNanos + 999_999) / 1_000_000);
        int n = _epoll.Wait(_events, timeoutMs);
        for (int i = 0; i < n; i++)
        {
            ref EpollEvent ev = ref _events[i];
            if (ev.Data == WakeToken)
            {
                _wake.Drain();
                continue;
            }
            switch (_slots[(int)ev.Data])
            {
                case EpollSocket socket:
                    socket.OnReady(ev.Events);
                    break;
                case EpollListener listener:
                    listener.OnReady();
                    break;
            }
        }
        _files.Drain();
    }

    internal IoOperation RentOperation(IoKind kind)
    {
        _shard.AssertCurrent();
        var op = IoOperation.Rent(_ops, Stats, kind);
        op.SyncAfter = false;
        op.KernelResult = 0;
        return op;
    }

    private ValueTask<int> SubmitFile(IoKind kind, int fd, nint buffer, int length, long offset, bool syncAfter = false, int mode = 0, long extent = 0)
    {
        if (_disposed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        var op = RentOperation(kind);
        op.Fd = fd;
        op.Buffer = buffer;
        op.Length = length;
        op.Offset = offset;
        op.SyncAfter = syncAfter;
        op.Mode = mode;
        op.Extent = extent;
        _files.Submit(op);
        return op.AsValueTask();
    }

    public override ValueTask<int> ReadAsync(int fd, nint buffer, int length, long offset, int registeredIndex)
        => SubmitFile(IoKind.Read, fd, buffer, length, offset);

    public override ValueTask<int> WriteAsync(int fd, nint buffer, int length, long offset, int registeredIndex, bool syncAfter)
        => SubmitFile(IoKind.Write, fd, buffer, length, offset, syncAfter);

    public override ValueTask<int> SyncAsync(int fd, bool dataOnly)
        => SubmitFile(dataOnly ? IoKind.DataSync : IoKind.Sync, fd, 0, 0, 0);

    public override ValueTask<int> AllocateAsync(int fd, int mode, long offset, long length)
        => SubmitFile(IoKind.Allocate, fd, 0, 0, offset, mode: mode, extent: length);

    public override SocketIo OpenSocket(int fd) => new EpollSocket(this, fd);

    public override ListenerIo OpenListener(int fd) => new EpollListener(this, fd);

    public override async ValueTask<int> ConnectAsync(int fd, IPEndPoint endpoint)
    {
        int r = Sockets.StartConnect(fd, endpoint);
        if (r == 0 || r != -Errno.EINPROGRESS)
        {
            return r;
        }
        // Writable means the handshake finished, one way or the other; SO_ERROR says which.
        var socket = new EpollSocket(this, fd);
        try
        {
            int ready = await socket.WaitWritableAsync();
            return ready < 0 ? ready : -Sockets.PendingError(fd);
        }
        finally
        {
            socket.Detach();
        }
    }

    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _files.Dispose();
        _files.Drain();
        foreach (var (_, owner) in _slots.Live())
        {
            switch (owner)
            {
                case EpollSocket socket:
                    socket.Close();
                    break;
                case EpollListener listener:
                    listener.Close();
                    break;
            }
        }
        _epoll.Dispose();
    }
}
