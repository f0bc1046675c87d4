using System.Runtime.InteropServices;

namespace Eddy.Native.IoUring;

// The io_uring kernel ABI as of Linux 6.x (<linux/io_uring.h>). Tmds.LibC stops at 5.7, so the ring
// structures and the newer flags are declared here; tests/Eddy.Runtime.Tests compares them with the header.

/// <summary>struct io_sqring_offsets (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SqRingOffsets
{
    public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1;
    public ulong UserAddr;
}

/// <summary>struct io_cqring_offsets (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CqRingOffsets
{
    public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1;
    public ulong UserAddr;
}

/// <summary>struct io_uring_params (120 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IoUringParams
{
    public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd;
    public uint Resv0, Resv1, Resv2;
    public SqRingOffsets SqOff;
    public CqRingOffsets CqOff;
}

/// <summary>struct io_uring_sqe (64 bytes). Unions are flattened to the member Eddy uses at each offset.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct Sqe
{
    [FieldOffset(0)] public byte Opcode;
    [FieldOffset(1)] public byte Flags;
    [FieldOffset(2)] public ushort IoPrio;
    [FieldOffset(4)] public int Fd;
    [FieldOffset(8)] public ulong Off;          // off / addr2
    [FieldOffset(16)] public ulong Addr;        // addr / splice_off_in
    [FieldOffset(24)] public uint Len;
    [FieldOffset(28)] public uint OpFlags;      // rw_flags, fsync_flags, timeout_flags, accept_flags, msg_flags...
    [FieldOffset(32)] public ulong UserData;
    [FieldOffset(40)] public ushort BufIndex;   // buf_index / buf_group
    [FieldOffset(42)] public ushort Personality;
    [FieldOffset(44)] public int SpliceFdIn;    // splice_fd_in / file_index
    [FieldOffset(48)] public ulong Addr3;
    [FieldOffset(56)] public ulong Pad2;
}

/// <summary>struct io_uring_cqe (16 bytes, no CQE32).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Cqe
{
    public ulong UserData;
    public int Res;
    public uint Flags;
}

/// <summary>struct io_uring_buf (16 bytes): one entry of a provided-buffer ring.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RingBuf
{
    public ulong Addr;
    public uint Len;
    public ushort Bid;
    public ushort Resv; // in entry 0 this is the ring's tail
}

/// <summary>struct io_uring_buf_reg (40 bytes): argument of IORING_REGISTER_PBUF_RING.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BufReg
{
    public ulong RingAddr;
    public uint RingEntries;
    public ushort Bgid;
    public ushort Flags;
    public ulong Resv0, Resv1, Resv2;
}

/// <summary>struct io_uring_getevents_arg (24 bytes): argument of IORING_ENTER_EXT_ARG.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GetEventsArg
{
    public ulong Sigmask;
    public uint SigmaskSize;
    public uint MinWaitUsec;
    public ulong Ts;
}

/// <summary>struct __kernel_timespec (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KernelTimespec
{
    public long Seconds;
    public long Nanoseconds;
}

/// <summary>struct iovec (16 bytes): argument of IORING_REGISTER_BUFFERS.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IoVec
{
    public nint Base;
    public nuint Length;
}

public static class IoUringConstants
{
    // syscall numbers (x86-64 and arm64 share these: they were added after the unified table).
    public const long SysSetup = 425, SysEnter = 426, SysRegister = 427;

    // io_uring_params.flags
    public const uint SetupCqSize = 1u << 3;
    public const uint SetupClamp = 1u << 4;
    public const uint SetupSubmitAll = 1u << 7;
    public const uint SetupCoopTaskrun = 1u << 8;
    public const uint SetupSingleIssuer = 1u << 12;
    public const uint SetupDeferTaskrun = 1u << 13;

    // io_uring_params.features
    public const uint FeatSingleMmap = 1u << 0;
    public const uint FeatNoDrop = 1u << 1;
    public const uint FeatExtArg = 1u << 8;

    // mmap offsets
    public const long OffSqRing = 0;
    public const long OffCqRing = 0x8000000;
    public const long OffSqes = 0x10000000;

    // io_uring_enter flags
    public const uint EnterGetEvents = 1u << 0;
    public const uint EnterExtArg = 1u << 3;

    // sqe.flags
    public const byte SqeFixedFile = 1 << 0;
    public const byte SqeIoDrain = 1 << 1;
    public const byte SqeIoLink = 1 << 2;
    public const byte SqeIoHardlink = 1 << 3;
    public const byte SqeAsync = 1 << 4;
    public const byte SqeBufferSelect = 1 << 5;
    public const byte SqeCqeSkipSuccess = 1 << 6;

    // opcodes
    public const byte OpNop = 0;
    public const byte OpReadFixed = 4;
    public const byte OpWriteFixed = 5;
    public const byte OpFsync = 3;
    public const byte OpTimeout = 11;
    public const byte OpAccept = 13;
    public const byte OpAsyncCancel = 14;
    public const byte OpConnect = 16;
    public const byte OpFallocate = 17;
    public const byte OpRead = 22;
    public const byte OpWrite = 23;
    public const byte OpSend = 26;
    public const byte OpRecv = 27;

    // per-opcode flags
    public const uint FsyncDatasync = 1u << 0;
    public const uint TimeoutAbs = 1u << 0;
    public const ushort AcceptMultishot = 1 << 0;
    public const ushort RecvMultishot = 1 << 1;
    public const uint AsyncCancelAll = 1u << 0;

    // cqe.flags
    public const uint CqeFBuffer = 1u << 0;
    public const uint CqeFMore = 1u << 1;
    public const int CqeBufferShift = 16;

    // io_uring_register opcodes
    public const uint RegisterBuffers = 0;
    public const uint UnregisterBuffers = 1;
    public const uint RegisterPbufRing = 22;
    public const uint UnregisterPbufRing = 23;
}
