using System.Runtime.CompilerServices;
using static Eddy.Native.IoUring.IoUringConstants;

namespace Eddy.Native.IoUring;

/// <summary>
/// One io_uring instance: the mapped submission and completion rings. Not thread-safe by design: the shard
/// that created it is the only thread that touches it (the ring is set up with SINGLE_ISSUER where the
/// kernel has it, which makes the kernel enforce this).
/// </summary>
public sealed unsafe class IoUringRing : IDisposable
{
    private readonly int _fd;
    private readonly byte* _sqRing;
    private readonly nuint _sqRingSize;
    private readonly byte* _cqRing;
    private readonly nuint _cqRingSize;
    private readonly Sqe* _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Cqe* _cqes;
    private uint _sqeTail;      // next SQE to hand out (not yet visible to the kernel)
    private uint _sqeSubmitted; // SQEs already made visible through *_sqTail
    private bool _disposed;

    private IoUringRing(int fd, in IoUringParams p)
    {
        _fd = fd;
        Flags = p.Flags;
        Features = p.Features;
        SqEntries = p.SqEntries;
        CqEntries = p.CqEntries;

        _sqRingSize = p.SqOff.Array + p.SqEntries * sizeof(uint);
        _cqRingSize = p.CqOff.Cqes + p.CqEntries * (uint)sizeof(Cqe);
        if ((p.Features & FeatSingleMmap) != 0)
        {
            _sqRingSize = _cqRingSize = Math.Max(_sqRingSize, _cqRingSize);
        }
        _sqRing = Map(fd, _sqRingSize, OffSqRing, "mmap(io_uring sq ring)");
        _cqRing = (p.Features & FeatSingleMmap) != 0 ? _sqRing : Map(fd, _cqRingSize, OffCqRing, "mmap(io_uring cq ring)");
        _sqesSize = p.SqEntries * (uint)sizeof(Sqe);
        _sqes = (Sqe*)Map(fd, _sqesSize, OffSqes, "mmap(io_uring sqes)");

        _sqHead = (uint*)(_sqRing + p.SqOff.Head);
        _sqTail = (uint*)(_sqRing + p.SqOff.Tail);
        _sqMask = *(uint*)(_sqRing + p.SqOff.RingMask);
        uint* array = (uint*)(_sqRing + p.SqOff.Array);
        for (uint i = 0; i < p.SqEntries; i++)
        {
            array[i] = i; // identity: SQE i is always slot i, so the array never changes after setup
        }
        _cqHead = (uint*)(_cqRing + p.CqOff.Head);
        _cqTail = (uint*)(_cqRing + p.CqOff.Tail);
        _cqMask = *(uint*)(_cqRing + p.CqOff.RingMask);
        _cqes = (Cqe*)(_cqRing + p.CqOff.Cqes);
        _sqeTail = _sqeSubmitted = *_sqTail;
    }

    public int Fd => _fd;
    public uint Flags { get; }
    public uint Features { get; }
    public uint SqEntries { get; }
    public uint CqEntries { get; }

    /// <summary>True when completions are only posted while this thread is inside io_uring_enter(GETEVENTS).</summary>
    public bool DeferTaskrun => (Flags & SetupDeferTaskrun) != 0;

    /// <summary>
    /// Creates a ring with SINGLE_ISSUER|DEFER_TASKRUN when <paramref name="singleIssuer"/> is set, retrying
    /// without them when the kernel answers EINVAL (older than 6.1). Must be called on the thread that will use it.
    /// </summary>
    public static IoUringRing Create(uint entries, bool singleIssuer = true)
    {
        uint baseFlags = SetupCqSize | SetupClamp | SetupSubmitAll;
        if (singleIssuer)
        {
            var ring = TrySetup(entries, baseFlags | SetupSingleIssuer | SetupDeferTaskrun, out int errno);
            if (ring is not null)
            {
                return ring;
            }
            if (errno != Errno.EINVAL)
            {
                throw new NativeException("io_uring_setup", errno);
            }
        }
        return TrySetup(entries, baseFlags | SetupCoopTaskrun, out int errno2)
            ?? TrySetup(entries, baseFlags, out errno2)
            ?? throw new NativeException("io_uring_setup", errno2);
    }

    private static IoUringRing? TrySetup(uint entries, uint flags, out int errno)
    {
        IoUringParams p = default;
        p.Flags = flags;
        p.CqEntries = entries * 4; // room for multishot bursts before the CQ overflows
        long fd = Libc.Syscall(SysSetup, entries, (long)&p, 0, 0, 0, 0);
        if (fd < 0)
        {
            errno = Errno.Last;
            return null;
        }
        errno = 0;
        return new IoUringRing((int)fd, p);
    }

    private static byte* Map(int fd, nuint size, long offset, string what)
    {
        const int ProtReadWrite = 0x1 | 0x2, MapSharedPopulate = 0x01 | 0x8000;
        void* p = Libc.Mmap(null, size, ProtReadWrite, MapSharedPopulate, fd, offset);
        if (p == (void*)-1)
        {
            throw new NativeException(what, Errno.Last);
        }
        return (byte*)p;
    }

    /// <summary>SQEs handed out but not yet submitted.</summary>
    public uint Pending => _sqeTail - _sqeSubmitted;

    /// <summary>
    /// Returns a zeroed SQE, or null when the submission queue is full (submit, then ask again).
    /// </summary>
    public Sqe* TryGetSqe()
    {
        uint head = Volatile.Read(ref *_sqHead);
        if (_sqeTail - head >= SqEntries)
        {
            return null;
        }
        Sqe* sqe = &_sqes[_sqeTail & _sqMask];
        _sqeTail++;
        Unsafe.InitBlockUnaligned(sqe, 0, (uint)sizeof(Sqe));
        return sqe;
    }

    /// <summary>
    /// Publishes pending SQEs and enters the kernel. With <paramref name="waitNanos"/> &lt; 0 it only
    /// submits (and runs deferred task work); otherwise it waits for at least one completion or the timeout.
    /// Returns the number of SQEs the kernel consumed.
    /// </summary>
    public int SubmitAndWait(long waitNanos)
    {
        uint toSubmit = _sqeTail - _sqeSubmitted;
        if (toSubmit != 0)
        {
            // Release: the SQE contents must be visible before the kernel sees the new tail.
            Volatile.Write(ref *_sqTail, _sqeTail);
            _sqeSubmitted = _sqeTail;
        }
        bool wait = waitNanos >= 0;
        if (!wait && toSubmit == 0 && !DeferTaskrun)
        {
            return 0; // completions are already posted asynchronously: nothing to ask the kernel
        }
        uint flags = EnterGetEvents;
        GetEventsArg arg = default;
        KernelTimespec ts = default;
        long argPtr = 0, argSize = 0;
        if (wait && (Features & FeatExtArg) != 0 && waitNanos != long.MaxValue)
        {
            ts.Seconds = waitNanos / 1_000_000_000;
            ts.Nanoseconds = waitNanos % 1_000_000_000;
            arg.Ts = (ulong)&ts;
            flags |= EnterExtArg;
            argPtr = (long)&arg;
            argSize = sizeof(GetEventsArg);
        }
        while (true)
        {
            long r = Libc.Syscall(SysEnter, _fd, toSubmit, wait ? 1 : 0, flags, argPtr, argSize);
            if (r >= 0)
            {
                return (int)r;
            }
            int errno = Errno.Last;
            switch (errno)
            {
                case Errno.EINTR:
                    continue;
                case Errno.ETIME:
                    return 0;
                case Errno.EBUSY or Errno.EAGAIN:
                    return 0; // CQ overflowed (kept by NODROP): the caller reaps and comes back
                default:
                    throw new NativeException("io_uring_enter", errno);
            }
        }
    }

    /// <summary>Reads the next completion, if any. Call <see cref="AdvanceCq"/> after handling it.</summary>
    public bool TryPeekCqe(out Cqe cqe)
    {
        uint head = *_cqHead;
        // Acquire: the CQE contents are valid once the tail that covers them is observed.
        if (head == Volatile.Read(ref *_cqTail))
        {
            cqe = default;
            return false;
        }
        cqe = _cqes[head & _cqMask];
        return true;
    }

    public void AdvanceCq() => Volatile.Write(ref *_cqHead, *_cqHead + 1);

    /// <summary>io_uring_register; throws with the opcode's name on failure.</summary>
    public void Register(uint opcode, void* arg, uint count, string what)
    {
        long r = Libc.Syscall(SysRegister, _fd, opcode, (long)arg, count, 0, 0);
        if (r < 0)
        {
            throw new NativeException(what, Errno.Last);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Libc.Munmap(_sqes, _sqesSize);
        if (_cqRing != _sqRing)
        {
            Libc.Munmap(_cqRing, _cqRingSize);
        }
        Libc.Munmap(_sqRing, _sqRingSize);
        Libc.Close(_fd);
    }
}
