using System.Net;

namespace Eddy.Runtime.IO;

/// <summary>Which kernel interface a shard uses for I/O.</summary>
public enum IoBackendKind
{
    /// <summary>io_uring, falling back to epoll when the kernel refuses it.</summary>
    Auto,
    IoUring,
    Epoll,
}

/// <summary>
/// A shard's I/O engine (io_uring or epoll). Every member except <see cref="Wake"/> is called only on the
/// shard's thread. Results follow the kernel convention: non-negative, or -errno; callers turn errors into
/// <see cref="Eddy.Native.NativeException"/> with the operation's name.
/// </summary>
internal abstract class IoBackend : IDisposable
{
    public abstract string Name { get; }

    /// <summary>What this shard's I/O did, for metrics.</summary>
    public IoStats Stats { get; } = new();

    /// <summary>Submits queued work and handles completions. Waits up to <paramref name="waitNanos"/> for one
    /// (long.MaxValue: until woken) when it is non-negative; returns at once when it is negative.</summary>
    public abstract void Poll(long waitNanos);

    /// <summary>Wakes the shard from <see cref="Poll"/>. Safe from any thread, until <see cref="ReleaseWake"/>.</summary>
    public abstract void Wake();

    /// <summary>Closes the wake-up eventfd. <see cref="Dispose"/> leaves it open because other threads may still be
    /// ringing it; the shard group calls this once every shard thread has ended, so a late ring can never write
    /// into a descriptor number the kernel has since given to something else.</summary>
    public abstract void ReleaseWake();

    /// <summary>Completions delivered by another thread and not yet handled (checked before the shard sleeps).</summary>
    public virtual bool HasReadyCompletions => false;

    public abstract ValueTask<int> ReadAsync(int fd, nint buffer, int length, long offset, int registeredIndex);

    /// <summary>Writes; with <paramref name="syncAfter"/> an fdatasync follows (linked on io_uring) and the result is the write's.</summary>
    public abstract ValueTask<int> WriteAsync(int fd, nint buffer, int length, long offset, int registeredIndex, bool syncAfter);

    public abstract ValueTask<int> SyncAsync(int fd, bool dataOnly);

    public abstract ValueTask<int> AllocateAsync(int fd, int mode, long offset, long length);

    public abstract SocketIo OpenSocket(int fd);

    public abstract ListenerIo OpenListener(int fd);

    /// <summary>Connects a non-blocking socket; 0 or -errno.</summary>
    public abstract ValueTask<int> ConnectAsync(int fd, IPEndPoint endpoint);

    /// <summary>Registers buffers for READ_FIXED/WRITE_FIXED; returns false where the backend has no such thing.</summary>
    public virtual bool TryRegisterBuffers(ReadOnlySpan<Buffers.AlignedBuffer> buffers) => false;

    public abstract void Dispose();
}

/// <summary>A connected socket's operations. One receive and one send may be pending at a time.</summary>
internal abstract class SocketIo
{
    /// <summary>Bytes received (0: the peer closed), or -errno.</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> destination);

    /// <summary>Bytes sent (possibly fewer than asked), or -errno.</summary>
    public abstract ValueTask<int> SendAsync(ReadOnlyMemory<byte> source);

    /// <summary>Shuts the socket down, fails pending operations, and closes the descriptor once the kernel is done with it.</summary>
    public abstract void Close();
}

/// <summary>A listening socket's operations.</summary>
internal abstract class ListenerIo
{
    /// <summary>The accepted connection's descriptor, or -errno (-ECANCELED once closed).</summary>
    public abstract ValueTask<int> AcceptAsync();

    public abstract void Close();
}
