using static Tmds.Linux.LibC;

namespace Eddy.Native;

/// <summary>
/// Files opened for direct I/O (O_DIRECT bypasses the page cache; FileOptions cannot ask for it), their
/// alignment requirements, and the blocking forms of the calls that the epoll backend's file workers make.
/// </summary>
public static unsafe class DirectIo
{
    private const uint StatxDioAlign = 0x2000;
    private const int AtFdCwd = -100;

    /// <summary>Opens (creating with 0644 when asked) a file with O_DIRECT|O_CLOEXEC.</summary>
    public static int Open(string path, bool create, bool readOnly = false)
    {
        int flags = O_DIRECT | O_CLOEXEC | (readOnly ? O_RDONLY : O_RDWR) | (create ? O_CREAT : 0);
        int fd = Libc.Open(path, flags, 420 /* 0644 */);
        if (fd < 0)
        {
            throw new NativeException($"open({path}, O_DIRECT)", Errno.Last);
        }
        return fd;
    }

    /// <summary>Opens a directory read-only (O_DIRECTORY) so that it can be fsynced: a new or renamed file's
    /// name is durable only once its directory is.</summary>
    public static int OpenDirectory(string path)
    {
        int fd = Libc.Open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new NativeException($"open({path}, O_DIRECTORY)", Errno.Last);
        }
        return fd;
    }

    /// <summary>
    /// The memory and offset alignment that direct I/O on <paramref name="path"/> needs (statx STATX_DIOALIGN,
    /// Linux 6.1+). Falls back to 4096 for both where the kernel or filesystem does not say.
    /// </summary>
    public static (int Memory, int Offset) Alignment(string path)
    {
        Statx st = default;
        if (Libc.Statx(AtFdCwd, path, 0, StatxDioAlign, &st) == 0 && (st.Mask & StatxDioAlign) != 0 && st.DioOffsetAlign != 0)
        {
            return ((int)st.DioMemAlign, (int)st.DioOffsetAlign);
        }
        return (4096, 4096);
    }

    public static long Size(string path)
    {
        Statx st = default;
        if (Libc.Statx(AtFdCwd, path, 0, 0x200 /* STATX_SIZE */, &st) < 0)
        {
            throw new NativeException($"statx({path})", Errno.Last);
        }
        return (long)st.Size;
    }

    // Blocking forms: non-negative on success, -errno on failure. Only file worker threads call these.
    public static int Pread(int fd, void* buffer, int length, long offset) => Result(Libc.Pread(fd, buffer, (nuint)length, offset));

    public static int Pwrite(int fd, void* buffer, int length, long offset) => Result(Libc.Pwrite(fd, buffer, (nuint)length, offset));

    public static int Fdatasync(int fd) => Libc.Fdatasync(fd) < 0 ? -Errno.Last : 0;

    public static int Fsync(int fd) => Libc.Fsync(fd) < 0 ? -Errno.Last : 0;

    public static int Fallocate(int fd, int mode, long offset, long length) => Libc.Fallocate(fd, mode, offset, length) < 0 ? -Errno.Last : 0;

    public static int Truncate(int fd, long length) => Libc.Ftruncate(fd, length) < 0 ? -Errno.Last : 0;

    public static void Close(int fd) => Libc.Close(fd);

    private static int Result(nint n) => n < 0 ? -Errno.Last : (int)n;
}
