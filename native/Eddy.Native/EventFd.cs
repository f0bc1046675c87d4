namespace Eddy.Native;

/// <summary>An eventfd: the doorbell that wakes a sleeping reactor from another thread.</summary>
public sealed unsafe class EventFd : IDisposable
{
    private const int EfdCloexec = 0x80000, EfdNonblock = 0x800;

    public EventFd(bool nonBlocking = true)
    {
        Fd = Libc.EventFd(0, EfdCloexec | (nonBlocking ? EfdNonblock : 0));
        if (Fd < 0)
        {
            throw new NativeException("eventfd", Errno.Last);
        }
    }

    public int Fd { get; private set; }

    /// <summary>Adds one to the counter; safe from any thread.</summary>
    public void Signal()
    {
        ulong one = 1;
        while (Libc.Write(Fd, &one, sizeof(ulong)) < 0)
        {
            int errno = Errno.Last;
            if (errno == Errno.EINTR)
            {
                continue;
            }
            if (errno == Errno.EAGAIN)
            {
                return; // the counter is saturated: the reader is going to wake anyway
            }
            throw new NativeException("write(eventfd)", errno);
        }
    }

    /// <summary>Reads and clears the counter. Returns 0 when it was already zero (non-blocking mode).</summary>
    public ulong Drain()
    {
        ulong value;
        while (Libc.Read(Fd, &value, sizeof(ulong)) < 0)
        {
            int errno = Errno.Last;
            if (errno == Errno.EINTR)
            {
                continue;
            }
            if (errno == Errno.EAGAIN)
            {
                return 0;
            }
            throw new NativeException("read(eventfd)", errno);
        }
        return value;
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
