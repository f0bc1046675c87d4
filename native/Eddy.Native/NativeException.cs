namespace Eddy.Native;

/// <summary>A failed system call: carries the operation's name and the errno it returned.</summary>
public sealed class NativeException : IOException
{
    public NativeException(string operation, int errno)
        : base($"{operation} failed: {Native.Errno.Describe(errno)}")
    {
        Operation = operation;
        Errno = errno;
    }

    /// <summary>The system call or io_uring operation that failed (for example "io_uring_setup", "fdatasync").</summary>
    public string Operation { get; }

    /// <summary>The positive errno value.</summary>
    public int Errno { get; }

    /// <summary>Throws for a negative kernel result (-errno); returns the result otherwise.</summary>
    public static int ThrowIfError(int result, string operation)
    {
        if (result < 0)
        {
            throw new NativeException(operation, -result);
        }
        return result;
    }
}
