using System.Net;
using System.Runtime.InteropServices;
using Eddy.Native;
using Eddy.Native.IoUring;

namespace Eddy.Runtime.IO;

/// <summary>
/// The io_uring backend: one ring per shard. Files use READ/WRITE (the FIXED forms for registered buffers) and a
/// linked FSYNC(DATASYNC); sockets use multishot ACCEPT, multishot RECV from a provided-buffer ring, and SEND.
/// A READ on an eventfd stays armed so another thread can wake the shard while it waits in io_uring_enter.
/// </summary>
internal sealed unsafe partial class UringBackend : IoBackend
{
    /// <summary>Receive buffers shared by the shard's connections: count and size. 256 x 16 KiB.</summary>
    private const ushort ReceiveBufferCount = 256;
    private const int ReceiveBufferSize = 16 << 10;
    private const ushort ReceiveBufferGroup = 0;

    private readonly Shard _shard;
    private readonly IoUringRing _ring;
    private readonly EventFd _wake;
    private readonly ulong* _wakeValue;
    private readonly KernelTimespec* _timeout;
    private readonly Stack<IoOperation> _ops = new();
    private readonly SlotTable _slots = new();
    private readonly List<UringSocket> _starved = new();
    private bool _disposed;
    private bool _buffersRegistered;

    public UringBackend(Shard shard, uint entries)
    {
        _shard = shard;
        _ring = IoUringRing.Create(entries);
        try
        {
            ReceiveBuffers = new ProvidedBufferRing(_ring, ReceiveBufferGroup, ReceiveBufferCount, ReceiveBufferSize);
            _wake = new EventFd();
        }
        catch
        {
            _ring.Dispose();
            throw;
        }
        _wakeValue = (ulong*)NativeMemory.Alloc(sizeof(ulong));
        _timeout = (KernelTimespec*)NativeMemory.Alloc((nuint)sizeof(KernelTimespec));
        ArmWake();
    }

    public override string Name => "io_uring";

    internal ProvidedBufferRing ReceiveBuffers { get; }

    internal IoUringRing Ring => _ring;

    internal SlotTable Slots => _slots;

    internal bool Disposed => _disposed;

    /// <summary>A free SQE, submitting what is queued first when the ring is full.</summary>
    internal Sqe* NextSqe()
    {
        Sqe* sqe = _ring.TryGetSqe();
        if (sqe == null)
        {
            _ring.SubmitAndWait(-1);
            sqe = _ring.TryGetSqe();
            if (sqe == null)
            {
                throw new InvalidOperationException("io_uring submission queue still full after submitting");
            }
        }
        return sqe;
    }

    private void ArmWake() => SqePrep.Read(NextSqe(), _wake.Fd, _wakeValue, sizeof(ulong), 0, UserData.Make(UserData.Wake, 0));

    public override void Wake() => _wake.Signal();

    public override void ReleaseWake() => _wake.Dispose();

    public override void Poll(long waitNanos)
    {
        if (waitNanos >= 0 && waitNanos != long.MaxValue && (_ring.Features & IoUringConstants.FeatExtArg) == 0)
        {
            // Kernels before 5.11 cannot take a timeout in io_uring_enter: a TIMEOUT request ends the wait instead.
            _timeout->Seconds = waitNanos / 1_000_000_000;
            _timeout->Nanoseconds = waitNanos % 1_000_000_000;
            SqePrep.Timeout(NextSqe(), _timeout, absolute: false, UserData.Make(UserData.Ignore, 0));
        }
        _ring.SubmitAndWait(waitNanos);
        Reap();
    }

    private void Reap()
    {
        while (_ring.TryPeekCqe(out Cqe cqe))
        {
            _ring.AdvanceCq(); // copied out: the slot may be reused by whatever the handler submits
            Dispatch(cqe);
        }
    }

    private void Dispatch(in Cqe cqe)
    {
        int slot = UserData.Slot(cqe.UserData);
        switch (UserData.Tag(cqe.UserData))
        {
            case UserData.Operation:
                CompleteOperation(slot, cqe.Res);
                break;
            case UserData.LinkedWrite:
                // First half of WRITE -> FSYNC: remember the write's result; the FSYNC's completion finishes the op.
                ((IoOperation)_slots[slot]!).KernelResult = cqe.Res;
                break;
            case UserData.Receive:
                ((UringSocket)_slots[slot]!).OnReceive(cqe.Res, cqe.Flags);
                break;
            case UserData.Accept:
                ((UringListener)_slots[slot]!).OnAccept(cqe.Res, cqe.Flags);
                break;
            case UserData.Wake:
                if (!_disposed)
                {
                    ArmWake();
                }
                break;
            case UserData.Ignore:
                break;
            default:
                throw new InvalidOperationException($"unknown io_uring completion tag in user_data {cqe.UserData:x}");
        }
    }

    private void CompleteOperation(int slot, int res)
    {
        var op = (IoOperation)_slots[slot]!;
        _slots.Free(slot);
        if (op.SyncAfter)
        {
            // A failed or short write cancels the linked FSYNC (-ECANCELED): report the write's own result.
            res = op.KernelResult < 0 || op.KernelResult != op.Length ? op.KernelResult : res < 0 ? res : op.KernelResult;
        }
        if (op.Kind == IoKind.Connect)
        {
            NativeMemory.Free((void*)op.Buffer);
        }
        op.Complete(res);
    }

    private (IoOperation Op, int Slot) Begin(IoKind kind)
    {
        _shard.AssertCurrent();
        var op = IoOperation.Rent(_ops, Stats, kind);
        op.SyncAfter = false;
        op.KernelResult = 0;
        return (op, _slots.Add(op));
    }

    public override ValueTask<int> ReadAsync(int fd, nint buffer, int length, long offset, int registeredIndex)
    {
        if (_disposed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        var (op, slot) = Begin(IoKind.Read);
        ulong ud = UserData.Make(UserData.Operation, slot);
        if (registeredIndex >= 0)
        {
            SqePrep.ReadFixed(NextSqe(), fd, (void*)buffer, (uint)length, offset, (ushort)registeredIndex, ud);
        }
        else
        {
            SqePrep.Read(NextSqe(), fd, (void*)buffer, (uint)length, offset, ud);
        }
        return op.AsValueTask();
    }

    public override ValueTask<int> WriteAsync(int fd, nint buffer, int length, long offset, int registeredIndex, bool syncAfter)
    {
        if (_disposed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        var (op, slot) = Begin(IoKind.Write);
        op.SyncAfter = syncAfter;
        op.Length = length;
        Sqe* write = NextSqe();
        ulong ud = UserData.Make(syncAfter ? UserData.LinkedWrite : UserData.Operation, slot);
        if (registeredIndex >= 0)
        {
            SqePrep.WriteFixed(write, fd, (void*)buffer, (uint)length, offset, (ushort)registeredIndex, ud);
        }
        else
        {
            SqePrep.Write(write, fd, (void*)buffer, (uint)length, offset, ud);
        }
        if (syncAfter)
        {
            SqePrep.Link(write);
            SqePrep.Fsync(NextSqe(), fd, dataOnly: true, UserData.Make(UserData.Operation, slot));
        }
        return op.AsValueTask();
    }

    public override ValueTask<int> SyncAsync(int fd, bool dataOnly)
    {
        if (_disposed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        var (op, slot) = Begin(dataOnly ? IoKind.DataSync : IoKind.Sync);
        SqePrep.Fsync(NextSqe(), fd, dataOnly, UserData.Make(UserData.Operation, slot));
        return op.AsValueTask();
    }

    public override ValueTask<int> AllocateAsync(int fd, int mode, long offset, long length)
    {
        if (_disposed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        var (op, slot) = Begin(IoKind.Allocate);
        SqePrep.Fallocate(NextSqe(), fd, mode, offset, length, UserData.Make(UserData.Operation, slot));
        return op.AsValueTask();
    }

    public override ValueTask<int> ConnectAsync(int fd, IPEndPoint endpoint)
    {
        if (_disposed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        var (op, slot) = Begin(IoKind.Connect);
        var addr = (SockAddrIn*)NativeMemory.Alloc((nuint)sizeof(SockAddrIn));
        *addr = Sockets.ToSockAddr(endpoint);
        op.Buffer = (nint)addr;
        SqePrep.Connect(NextSqe(), fd, addr, (uint)sizeof(SockAddrIn), UserData.Make(UserData.Operation, slot));
        return op.AsValueTask();
    }

    /// <summary>Starts a SEND of <paramref name="source"/>, pinned until the kernel is done with it.</summary>
    internal ValueTask<int> SendAsync(int fd, ReadOnlyMemory<byte> source)
    {
        if (_disposed)
        {
            return new ValueTask<int>(-Errno.ECANCELED);
        }
        var (op, slot) = Begin(IoKind.Send);
        op.Pin = source.Pin();
        SqePrep.Send(NextSqe(), fd, op.Pin.Pointer, (uint)source.Length, Sockets.MsgNoSignal, UserData.Make(UserData.Operation, slot));
        return op.AsValueTask();
    }

    internal IoOperation RentOperation(IoKind kind)
    {
        var op = IoOperation.Rent(_ops, Stats, kind);
        op.SyncAfter = false;
        return op;
    }

    public override SocketIo OpenSocket(int fd) => new UringSocket(this, fd);

    public override ListenerIo OpenListener(int fd) => new UringListener(this, fd);

    /// <summary>A socket whose multishot RECV stopped for lack of buffers waits here for <see cref="RecycleReceiveBuffer"/>.</summary>
    internal void AddStarved(UringSocket socket) => _starved.Add(socket);

    internal void RecycleReceiveBuffer(ushort bufferId)
    {
        ReceiveBuffers.Recycle(bufferId);
        if (_starved.Count > 0)
        {
            foreach (var socket in _starved)
            {
                socket.RearmAfterStarvation();
            }
            _starved.Clear();
        }
    }

    public override bool TryRegisterBuffers(ReadOnlySpan<Buffers.AlignedBuffer> buffers)
    {
        if (_buffersRegistered || buffers.Length == 0 || buffers.Length > ushort.MaxValue)
        {
            return false;
        }
        var iovecs = new IoVec[buffers.Length];
        for (int i = 0; i < buffers.Length; i++)
        {
            iovecs[i] = new IoVec { Base = buffers[i].Address, Length = (nuint)buffers[i].Length };
        }
        fixed (IoVec* p = iovecs)
        {
            _ring.Register(IoUringConstants.RegisterBuffers, p, (uint)iovecs.Length, "io_uring_register(BUFFERS)");
        }
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i].RegisteredIndex = i;
        }
        _buffersRegistered = true;
        return true;
    }

    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        // Whatever is still waiting learns that it will never complete, so awaiting code can unwind.
        foreach (var (slot, owner) in _slots.Live())
        {
            switch (owner)
            {
                case IoOperation op:
                    _slots.Free(slot);
                    if (op.Kind == IoKind.Connect)
                    {
                        NativeMemory.Free((void*)op.Buffer);
                    }
                    op.Complete(-Errno.ECANCELED);
                    break;
                case UringSocket socket:
                    socket.Abandon();
                    break;
                case UringListener listener:
                    listener.Abandon();
                    break;
            }
        }
        ReceiveBuffers.Dispose();
        _ring.Dispose();
        NativeMemory.Free(_wakeValue);
        NativeMemory.Free(_timeout);
    }
}
