using System.Buffers.Binary;
using System.Net;
using static Tmds.Linux.LibC;

namespace Eddy.Native;

/// <summary>
/// TCP sockets as raw non-blocking file descriptors. The reactor (core/Net) drives them; these calls never
/// block. Results follow the kernel convention: non-negative on success, -errno on failure.
/// </summary>
public static unsafe class Sockets
{
    public static int MsgNoSignal => MSG_NOSIGNAL;

    /// <summary>
    /// A listening IPv4 socket bound to <paramref name="endpoint"/> with SO_REUSEADDR, and SO_REUSEPORT when
    /// <paramref name="reusePort"/> is set (so every shard can accept on the same port).
    /// </summary>
    public static int Listen(IPEndPoint endpoint, int backlog, bool reusePort)
    {
        int fd = CreateTcp();
        try
        {
            SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)");
            if (reusePort)
            {
                SetInt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "setsockopt(SO_REUSEPORT)");
            }
            SockAddrIn addr = ToSockAddr(endpoint);
            if (Libc.Bind(fd, &addr, (uint)sizeof(SockAddrIn)) < 0)
            {
                throw new NativeException($"bind({endpoint})", Errno.Last);
            }
            if (Libc.Listen(fd, backlog) < 0)
            {
                throw new NativeException("listen", Errno.Last);
            }
            return fd;
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>A new non-blocking, close-on-exec TCP socket.</summary>
    public static int CreateTcp()
    {
        int fd = Libc.Socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new NativeException("socket", Errno.Last);
        }
        return fd;
    }

    /// <summary>Starts a non-blocking connect; returns 0, or -EINPROGRESS while it completes, or -errno.</summary>
    public static int StartConnect(int fd, IPEndPoint endpoint)
    {
        SockAddrIn addr = ToSockAddr(endpoint);
        return Libc.Connect(fd, &addr, (uint)sizeof(SockAddrIn)) < 0 ? -Errno.Last : 0;
    }

    /// <summary>The pending error of a socket (SO_ERROR), as a positive errno or 0.</summary>
    public static int PendingError(int fd)
    {
        int value = 0;
        uint len = sizeof(int);
        return Libc.Getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &len) < 0 ? Errno.Last : value;
    }

    public static SockAddrIn ToSockAddr(IPEndPoint endpoint)
    {
        if (endpoint.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"only IPv4 endpoints are supported, got {endpoint}", nameof(endpoint));
        }
        Span<byte> ip = stackalloc byte[4];
        endpoint.Address.TryWriteBytes(ip, out _);
        return new SockAddrIn
        {
            Family = (ushort)AF_INET,
            PortBigEndian = BinaryPrimitives.ReverseEndianness((ushort)endpoint.Port),
            AddressBigEndian = BinaryPrimitives.ReadUInt32LittleEndian(ip),
        };
    }

    /// <summary>The port a socket is bound to (after binding to port 0).</summary>
    public static int LocalPort(int fd)
    {
        SockAddrIn addr;
        uint len = (uint)sizeof(SockAddrIn);
        if (Libc.Getsockname(fd, &addr, &len) < 0)
        {
            throw new NativeException("getsockname", Errno.Last);
        }
        return BinaryPrimitives.ReverseEndianness(addr.PortBigEndian);
    }

    /// <summary>The peer's IPv4 address and port, or null when the socket has none (the peer already left, or it is
    /// not IPv4).</summary>
    public static IPEndPoint? PeerEndPoint(int fd)
    {
        SockAddrIn addr;
        uint len = (uint)sizeof(SockAddrIn);
        if (Libc.Getpeername(fd, &addr, &len) < 0 || addr.Family != AF_INET)
        {
            return null;
        }
        Span<byte> ip = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(ip, addr.AddressBigEndian);
        return new IPEndPoint(new IPAddress(ip), BinaryPrimitives.ReverseEndianness(addr.PortBigEndian));
    }

    public static void SetNoDelay(int fd) => SetInt(fd, IPPROTO_TCP, TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)");

    public static int AcceptFlags => SOCK_NONBLOCK | SOCK_CLOEXEC;

    /// <summary>accept4 on a non-blocking listener: the new fd, or -errno (-EAGAIN when none is waiting).</summary>
    public static int Accept(int listenFd)
    {
        int fd = Libc.Accept4(listenFd, null, null, AcceptFlags);
        return fd < 0 ? -Errno.Last : fd;
    }

    public static int Recv(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            nint n = Libc.Recv(fd, p, (nuint)buffer.Length, 0);
            return n < 0 ? -Errno.Last : (int)n;
        }
    }

    public static int Send(int fd, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            nint n = Libc.Send(fd, p, (nuint)buffer.Length, MSG_NOSIGNAL);
            return n < 0 ? -Errno.Last : (int)n;
        }
    }

    /// <summary>Shuts down both directions, which also wakes any operation pending on the socket.</summary>
    public static void ShutdownBoth(int fd) => Libc.Shutdown(fd, SHUT_RDWR);

    public static void Close(int fd) => Libc.Close(fd);

    private static void SetInt(int fd, int level, int name, int value, string what)
    {
        if (Libc.Setsockopt(fd, level, name, &value, sizeof(int)) < 0)
        {
            throw new NativeException(what, Errno.Last);
        }
    }
}
