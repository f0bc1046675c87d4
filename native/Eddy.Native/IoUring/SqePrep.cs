using static Eddy.Native.IoUring.IoUringConstants;

namespace Eddy.Native.IoUring;

/// <summary>Fills an SQE (already zeroed by <see cref="IoUringRing.TryGetSqe"/>) for one operation.</summary>
public static unsafe class SqePrep
{
    public static void Nop(Sqe* sqe, ulong userData)
    {
        sqe->Opcode = OpNop;
        sqe->Fd = -1;
        sqe->UserData = userData;
    }

    public static void Read(Sqe* sqe, int fd, void* buffer, uint length, long offset, ulong userData)
        => ReadWrite(sqe, OpRead, fd, buffer, length, offset, userData);

    public static void Write(Sqe* sqe, int fd, void* buffer, uint length, long offset, ulong userData)
        => ReadWrite(sqe, OpWrite, fd, buffer, length, offset, userData);

    /// <summary>READ_FIXED: <paramref name="buffer"/> must lie inside registered buffer <paramref name="bufferIndex"/>.</summary>
    public static void ReadFixed(Sqe* sqe, int fd, void* buffer, uint length, long offset, ushort bufferIndex, ulong userData)
    {
        ReadWrite(sqe, OpReadFixed, fd, buffer, length, offset, userData);
        sqe->BufIndex = bufferIndex;
    }

    /// <summary>WRITE_FIXED: <paramref name="buffer"/> must lie inside registered buffer <paramref name="bufferIndex"/>.</summary>
    public static void WriteFixed(Sqe* sqe, int fd, void* buffer, uint length, long offset, ushort bufferIndex, ulong userData)
    {
        ReadWrite(sqe, OpWriteFixed, fd, buffer, length, offset, userData);
        sqe->BufIndex = bufferIndex;
    }

    private static void ReadWrite(Sqe* sqe, byte op, int fd, void* buffer, uint length, long offset, ulong userData)
    {
        sqe->Opcode = op;
        sqe->Fd = fd;
        sqe->Addr = (ulong)buffer;
        sqe->Len = length;
        sqe->Off = (ulong)offset;
        sqe->UserData = userData;
    }

    /// <summary>FSYNC, with DATASYNC (fdatasync) when <paramref name="dataOnly"/> is set.</summary>
    public static void Fsync(Sqe* sqe, int fd, bool dataOnly, ulong userData)
    {
        sqe->Opcode = OpFsync;
        sqe->Fd = fd;
        sqe->OpFlags = dataOnly ? FsyncDatasync : 0;
        sqe->UserData = userData;
    }

    public static void Fallocate(Sqe* sqe, int fd, int mode, long offset, long length, ulong userData)
    {
        sqe->Opcode = OpFallocate;
        sqe->Fd = fd;
        sqe->Off = (ulong)offset;
        sqe->Addr = (ulong)length; // the kernel takes the length in addr and the mode in len
        sqe->Len = (uint)mode;
        sqe->UserData = userData;
    }

    /// <summary>Marks the SQE so the next one starts only after this one succeeds.</summary>
    public static void Link(Sqe* sqe) => sqe->Flags |= SqeIoLink;

    /// <summary>ACCEPT; multishot keeps posting one CQE per accepted connection (flag CQE_F_MORE) until it fails.</summary>
    public static void Accept(Sqe* sqe, int listenFd, bool multishot, int acceptFlags, ulong userData)
    {
        sqe->Opcode = OpAccept;
        sqe->Fd = listenFd;
        sqe->OpFlags = (uint)acceptFlags;
        sqe->IoPrio = multishot ? AcceptMultishot : (ushort)0;
        sqe->UserData = userData;
    }

    /// <summary>RECV with the kernel picking a buffer from provided-buffer group <paramref name="bufferGroup"/>.</summary>
    public static void RecvMultishot(Sqe* sqe, int fd, ushort bufferGroup, ulong userData)
    {
        sqe->Opcode = OpRecv;
        sqe->Fd = fd;
        sqe->IoPrio = IoUringConstants.RecvMultishot;
        sqe->Flags = SqeBufferSelect;
        sqe->BufIndex = bufferGroup;
        sqe->UserData = userData;
    }

    public static void Recv(Sqe* sqe, int fd, void* buffer, uint length, int msgFlags, ulong userData)
    {
        sqe->Opcode = OpRecv;
        sqe->Fd = fd;
        sqe->Addr = (ulong)buffer;
        sqe->Len = length;
        sqe->OpFlags = (uint)msgFlags;
        sqe->UserData = userData;
    }

    public static void Send(Sqe* sqe, int fd, void* buffer, uint length, int msgFlags, ulong userData)
    {
        sqe->Opcode = OpSend;
        sqe->Fd = fd;
        sqe->Addr = (ulong)buffer;
        sqe->Len = length;
        sqe->OpFlags = (uint)msgFlags;
        sqe->UserData = userData;
    }

    public static void Connect(Sqe* sqe, int fd, void* sockaddr, uint length, ulong userData)
    {
        sqe->Opcode = OpConnect;
        sqe->Fd = fd;
        sqe->Addr = (ulong)sockaddr;
        sqe->Off = length;
        sqe->UserData = userData;
    }

    /// <summary>TIMEOUT: completes with -ETIME when <paramref name="timespec"/> elapses (the struct must outlive the op).</summary>
    public static void Timeout(Sqe* sqe, KernelTimespec* timespec, bool absolute, ulong userData)
    {
        sqe->Opcode = OpTimeout;
        sqe->Fd = -1;
        sqe->Addr = (ulong)timespec;
        sqe->Len = 1;
        sqe->OpFlags = absolute ? TimeoutAbs : 0;
        sqe->UserData = userData;
    }

    /// <summary>ASYNC_CANCEL of the request whose user_data is <paramref name="target"/>.</summary>
    public static void Cancel(Sqe* sqe, ulong target, ulong userData)
    {
        sqe->Opcode = OpAsyncCancel;
        sqe->Fd = -1;
        sqe->Addr = target;
        sqe->UserData = userData;
    }
}
