namespace Eddy.Native;

/// <summary>An epoll instance: the readiness backend used where io_uring is unavailable.</summary>
public sealed unsafe class Epoll : IDisposable
{
    public const uint In = 0x001, Out = 0x004, Err = 0x008, Hup = 0x010, RdHup = 0x2000, EdgeTriggered = 1u << 31;
    private const int CtlAdd = 1, CtlDel = 2, CtlMod = 3, Cloexec = 0x80000;

    public Epoll()
    {
        Fd = Libc.EpollCreate1(Cloexec);
        if (Fd < 0)
        {
            throw new NativeException("epoll_create1", Errno.Last);
        }
    }

    public int Fd { get; private set; }

    public void Add(int fd, uint events, ulong data) => Control(CtlAdd, fd, events, data, "epoll_ctl(ADD)");

    public void Modify(int fd, uint events, ulong data) => Control(CtlMod, fd, events, data, "epoll_ctl(MOD)");

    public void Remove(int fd) => Control(CtlDel, fd, 0, 0, "epoll_ctl(DEL)");

    private void Control(int op, int fd, uint events, ulong data, string what)
    {
        EpollEvent ev = new() { Events = events, Data = data };
        if (Libc.EpollCtl(Fd, op, fd, &ev) < 0)
        {
            throw new NativeException(what, Errno.Last);
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> (-1: forever, 0: poll). Returns the number of events.</summary>
    public int Wait(Span<EpollEvent> events, int timeoutMs)
    {
        fixed (EpollEvent* p = events)
        {
            int n = Libc.EpollWait(Fd, p, events.Length, timeoutMs);
            if (n >= 0)
            {
                return n;
            }
            int errno = Errno.Last;
            if (errno == Errno.EINTR)
            {
                return 0;
            }
            throw new NativeException("epoll_wait", errno);
        }
    }

    public void Dispose()
    {
        if (Fd >= 0)
        {
            Libc.Close(Fd);
            Fd = -1;
        }
    }
}
