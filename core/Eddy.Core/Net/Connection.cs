using System.Net;
using System.Runtime.CompilerServices;
using Eddy.Native;
using Eddy.Runtime;
using Eddy.Runtime.IO;

namespace Eddy.Net;

/// <summary>
/// A TCP connection served by one shard's reactor. At most one receive and one send may be pending at a time;
/// both are used only from the owning shard.
/// </summary>
public sealed class Connection : IDisposable
{
    private readonly SocketIo _io;
    private bool _disposed;

    internal Connection(Shard shard, SocketIo io, IPEndPoint? remoteEndPoint)
    {
        Shard = shard;
        _io = io;
        RemoteEndPoint = remoteEndPoint;
    }

    public Shard Shard { get; }

    /// <summary>The peer's address, or null when it could not be read (the peer left before it was asked).</summary>
    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>Connects to <paramref name="endpoint"/> from the calling shard.</summary>
    public static async ValueTask<Connection> ConnectAsync(IPEndPoint endpoint)
    {
        var shard = Shard.Current ?? throw new InvalidOperationException("connections are opened on a shard");
        int fd = Sockets.CreateTcp();
        try
        {
            NativeException.ThrowIfError(await shard.Io.ConnectAsync(fd, endpoint), $"connect({endpoint})");
            Sockets.SetNoDelay(fd);
            return new Connection(shard, shard.Io.OpenSocket(fd), endpoint);
        }
        catch
        {
            Sockets.Close(fd);
            throw;
        }
    }

    /// <summary>Receives into <paramref name="destination"/>: the byte count, or 0 once the peer has closed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReceiveAsync(Memory<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return NativeException.ThrowIfError(await _io.ReceiveAsync(destination), "recv");
    }

    /// <summary>Sends all of <paramref name="source"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> source)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (!source.IsEmpty)
        {
            int n = NativeException.ThrowIfError(await _io.SendAsync(source), "send");
            source = source[n..];
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
