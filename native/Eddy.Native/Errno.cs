using System.Runtime.InteropServices;

namespace Eddy.Native;

/// <summary>errno values the runtime reacts to, and their names for error messages.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int EPIPE = 32;
    public const int ENOSYS = 38;
    public const int ETIME = 62;
    public const int EOPNOTSUPP = 95;
    public const int EADDRINUSE = 98;
    public const int ECONNABORTED = 103;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int ENOTCONN = 107;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;
    public const int EALREADY = 114;
    public const int EINPROGRESS = 115;
    public const int ECANCELED = 125;

    /// <summary>The errno left by the last <c>SetLastError = true</c> import on this thread.</summary>
    public static int Last => Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => errno switch
    {
        EPERM => "EPERM (operation not permitted)",
        ENOENT => "ENOENT (no such file or directory)",
        EINTR => "EINTR (interrupted)",
        EIO => "EIO (input/output error)",
        EBADF => "EBADF (bad file descriptor)",
        EAGAIN => "EAGAIN (try again)",
        ENOMEM => "ENOMEM (out of memory)",
        EACCES => "EACCES (permission denied)",
        EFAULT => "EFAULT (bad address)",
        EBUSY => "EBUSY (busy)",
        EEXIST => "EEXIST (exists)",
        EINVAL => "EINVAL (invalid argument)",
        ENOSPC => "ENOSPC (no space left on device)",
        EPIPE => "EPIPE (broken pipe)",
        ENOSYS => "ENOSYS (not implemented by this kernel)",
        ETIME => "ETIME (timer expired)",
        EOPNOTSUPP => "EOPNOTSUPP (not supported)",
        EADDRINUSE => "EADDRINUSE (address in use)",
        ECONNABORTED => "ECONNABORTED (connection aborted)",
        ECONNRESET => "ECONNRESET (connection reset by peer)",
        ENOBUFS => "ENOBUFS (no buffer space)",
        ENOTCONN => "ENOTCONN (not connected)",
        ETIMEDOUT => "ETIMEDOUT (timed out)",
        ECONNREFUSED => "ECONNREFUSED (connection refused)",
        ECANCELED => "ECANCELED (canceled)",
        _ => $"errno {errno}",
    };
}
