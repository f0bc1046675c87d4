using Eddy.Native;

namespace Eddy.Runtime.IO;

internal static class IoBackendFactory
{
    /// <summary>Submission queue size per shard.</summary>
    public const uint RingEntries = 256;

    /// <summary>Creates the backend on the shard's own thread (io_uring's SINGLE_ISSUER binds the ring to it).</summary>
    public static IoBackend Create(IoBackendKind kind, Shard shard)
    {
        switch (kind)
        {
            case IoBackendKind.Epoll:
                return new EpollBackend(shard);
            case IoBackendKind.IoUring:
                return new UringBackend(shard, RingEntries);
            default:
                try
                {
                    return new UringBackend(shard, RingEntries);
                }
                catch (NativeException e)
                {
                    // seccomp, kernel.io_uring_disabled, or a kernel without the features we need.
                    Console.Error.WriteLine($"shard {shard.Id}: io_uring unavailable ({e.Message}); using epoll");
                    return new EpollBackend(shard);
                }
        }
    }
}
