using System.Net;
using Eddy.Native;
using Eddy.Runtime;
using Eddy.Runtime.IO;

namespace Eddy.Net;

/// <summary>A listening TCP socket on one shard. With SO_REUSEPORT, every shard listens on the same port and the
/// kernel spreads incoming connections across them.</summary>
public sealed class Listener : IDisposable
{
    private readonly Shard _shard;
    private readonly ListenerIo _io;
    private bool _disposed;

    private Listener(Shard shard, ListenerIo io, int port)
    {
        _shard = shard;
        _io = io;
        Port = port;
    }

    /// <summary>The bound port (useful after binding port 0).</summary>
    public int Port { get; }

    /// <summary>Binds and listens on the calling shard.</summary>
    public static Listener Bind(IPEndPoint endpoint, int backlog = 1024, bool reusePort = true)
    {
        var shard = Shard.Current ?? throw new InvalidOperationException("listeners are bound on a shard");
        int fd = Sockets.Listen(endpoint, backlog, reusePort);
        return new Listener(shard, shard.Io.OpenListener(fd), Sockets.LocalPort(fd));
    }

    /// <summary>The next connection. Throws <see cref="ObjectDisposedException"/> once the listener is closed.</summary>
    public async ValueTask<Connection> AcceptAsync()
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int fd = await _io.AcceptAsync();
            ObjectDisposedException.ThrowIf(fd == -Errno.ECANCELED && _disposed, this);
            if (fd == -Errno.ECONNABORTED || fd == -Errno.EAGAIN)
            {
                continue; // the peer gave up before we accepted: not our failure
            }
            NativeException.ThrowIfError(fd, "accept");
            Sockets.SetNoDelay(fd);
            return new Connection(_shard, _shard.Io.OpenSocket(fd), Sockets.PeerEndPoint(fd));
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _io.Close();
        }
    }
}
