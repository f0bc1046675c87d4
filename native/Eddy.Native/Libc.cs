using System.Runtime.InteropServices;

namespace Eddy.Native;

/// <summary>
/// Raw libc entry points. Every import sets errno (read it with <see cref="Errno.Last"/>). Callers use the
/// typed wrappers in this project rather than these directly.
/// </summary>
public static unsafe partial class Libc
{
    private const string Lib = "libc";

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    internal static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(void* addr, nuint length);

    [LibraryImport(Lib, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initval, int flags);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, void* buf, nuint count);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, void* buf, nuint count);

    [LibraryImport(Lib, EntryPoint = "pread64", SetLastError = true)]
    internal static partial nint Pread(int fd, void* buf, nuint count, long offset);

    [LibraryImport(Lib, EntryPoint = "pwrite64", SetLastError = true)]
    internal static partial nint Pwrite(int fd, void* buf, nuint count, long offset);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "fallocate64", SetLastError = true)]
    internal static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport(Lib, EntryPoint = "ftruncate64", SetLastError = true)]
    internal static partial int Ftruncate(int fd, long length);

    [LibraryImport(Lib, EntryPoint = "fdatasync", SetLastError = true)]
    internal static partial int Fdatasync(int fd);

    [LibraryImport(Lib, EntryPoint = "fsync", SetLastError = true)]
    internal static partial int Fsync(int fd);

    [LibraryImport(Lib, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(int dirfd, string path, int flags, uint mask, Statx* buf);

    [LibraryImport(Lib, EntryPoint = "sched_setaffinity", SetLastError = true)]
    internal static partial int SchedSetaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Lib, EntryPoint = "sched_getaffinity", SetLastError = true)]
    internal static partial int SchedGetaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Lib, EntryPoint = "gettid")]
    internal static partial int GetTid();

    [LibraryImport(Lib, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);

    [LibraryImport(Lib, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport(Lib, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static partial int EpollWait(int epfd, EpollEvent* events, int maxevents, int timeout);

    [LibraryImport(Lib, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Lib, EntryPoint = "bind", SetLastError = true)]
    internal static partial int Bind(int fd, void* addr, uint addrlen);

    [LibraryImport(Lib, EntryPoint = "listen", SetLastError = true)]
    internal static partial int Listen(int fd, int backlog);

    [LibraryImport(Lib, EntryPoint = "connect", SetLastError = true)]
    internal static partial int Connect(int fd, void* addr, uint addrlen);

    [LibraryImport(Lib, EntryPoint = "accept4", SetLastError = true)]
    internal static partial int Accept4(int fd, void* addr, uint* addrlen, int flags);

    [LibraryImport(Lib, EntryPoint = "setsockopt", SetLastError = true)]
    internal static partial int Setsockopt(int fd, int level, int name, void* value, uint len);

    [LibraryImport(Lib, EntryPoint = "getsockopt", SetLastError = true)]
    internal static partial int Getsockopt(int fd, int level, int name, void* value, uint* len);

    [LibraryImport(Lib, EntryPoint = "getsockname", SetLastError = true)]
    internal static partial int Getsockname(int fd, void* addr, uint* addrlen);

    [LibraryImport(Lib, EntryPoint = "getpeername", SetLastError = true)]
    internal static partial int Getpeername(int fd, void* addr, uint* addrlen);

    [LibraryImport(Lib, EntryPoint = "recv", SetLastError = true)]
    internal static partial nint Recv(int fd, void* buf, nuint len, int flags);

    [LibraryImport(Lib, EntryPoint = "send", SetLastError = true)]
    internal static partial nint Send(int fd, void* buf, nuint len, int flags);

    [LibraryImport(Lib, EntryPoint = "shutdown", SetLastError = true)]
    internal static partial int Shutdown(int fd, int how);
}
