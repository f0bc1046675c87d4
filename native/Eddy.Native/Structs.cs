using System.Runtime.InteropServices;

namespace Eddy.Native;

/// <summary>struct epoll_event: packed on x86-64 (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public struct EpollEvent
{
    public uint Events;
    public ulong Data;
}

/// <summary>struct sockaddr_in (16 bytes); port and address in network byte order.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SockAddrIn
{
    public ushort Family;
    public ushort PortBigEndian;
    public uint AddressBigEndian;
    public ulong Zero;
}

/// <summary>struct statx (256 bytes); only the fields Eddy reads are named.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
public struct Statx
{
    [FieldOffset(0)] public uint Mask;
    [FieldOffset(4)] public uint BlockSize;
    [FieldOffset(40)] public ulong Size;
    [FieldOffset(152)] public uint DioMemAlign;
    [FieldOffset(156)] public uint DioOffsetAlign;
}
