using System.Buffers;
using System.Net;
using Eddy.Net;
using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Http;

/// <summary>
/// A small HTTP/1.1 server on one shard's reactor, for the admin API: one listener, keep-alive connections, one
/// request at a time per connection, bodies by Content-Length. Kestrel would do this too, but it doubles the node's
/// memory at start (an empty Kestrel slim app: 20 MB resident, 16 ms to start, against about 13 MB and 10 ms for a whole
/// node) for an API that answers a few requests a minute. Limits: <see cref="HttpHeadReader.MaxHeadBytes"/> of head,
/// <see cref="MaxBodyBytes"/> of body, and those of <see cref="HttpServerOptions"/> (connections, and how long a
/// request and an idle connection may take). A request that breaks the protocol gets its 4xx and the connection
/// closes; the others carry on.
/// </summary>
public sealed class HttpServer : IAsyncDisposable
{
    private const string Subsystem = "http";

    /// <summary>The largest request body taken: 1 MiB (413 past it).</summary>
    public const int MaxBodyBytes = 1 << 20;

    private readonly ShardGroup _group;
    private readonly int _shard;
    private readonly Listener _listener;
    private readonly Func<HttpRequest, ValueTask<HttpResponse>> _handler;
    private readonly Func<int, string, HttpResponse> _error;
    private readonly HttpServerOptions _options;
    private readonly HashSet<Connection> _open = [];
    private Task _accepting = Task.CompletedTask;

    private HttpServer(ShardGroup group, int shard, Listener listener, Func<HttpRequest, ValueTask<HttpResponse>> handler,
        Func<int, string, HttpResponse> error, HttpServerOptions options)
    {
        _options = options;
        _group = group;
        _shard = shard;
        _listener = listener;
        _handler = handler;
        _error = error;
    }

    /// <summary>The port it listens on (the one picked, for port 0).</summary>
    public int Port => _listener.Port;

    /// <summary>Listens on <paramref name="endpoint"/> on shard <paramref name="shard"/> (without SO_REUSEPORT: a second
    /// node on the same port fails to start instead of sharing it); <paramref name="error"/> makes the responses for
    /// requests refused before any handler sees them.</summary>
    public static async Task<HttpServer> StartAsync(ShardGroup group, int shard, IPEndPoint endpoint,
        Func<HttpRequest, ValueTask<HttpResponse>> handler, Func<int, string, HttpResponse> error, HttpServerOptions? options = null)
    {
        var listener = await group.InvokeAsync(shard, () => Listener.Bind(endpoint, backlog: 128, reusePort: false));
        var server = new HttpServer(group, shard, listener, handler, error, options ?? new HttpServerOptions());
        server._accepting = group.InvokeAsync(shard, () => server.AcceptLoopAsync());
        return server;
    }

    private async ValueTask AcceptLoopAsync()
    {
        while (true)
        {
            Connection connection;
            try
            {
                connection = await _listener.AcceptAsync();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (_open.Count >= _options.MaxConnections)
            {
                _ = TurnAwayAsync(connection, _error(503, $"this node serves at most {_options.MaxConnections} admin connections at once"));
                continue;
            }
            _open.Add(connection);
            _ = ServeAsync(connection);
        }
    }

    /// <summary>Answers a connection past <see cref="MaxConnections"/> without reading it, and closes it.</summary>
    private static async Task TurnAwayAsync(Connection connection, HttpResponse response)
    {
        try
        {
            await connection.SendAsync(response.Encode(close: true));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The client went away first.
        }
        finally
        {
            connection.Dispose();
        }
    }

    private async Task ServeAsync(Connection connection)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(HttpHeadReader.MaxHeadBytes);
        var clock = Shard.Current!.Clock;
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                HttpHeadRead read;
                long requestDue = 0; // set at the request's first byte
                while ((read = HttpHeadReader.Read(buffer.AsSpan(start, end - start))).IsIncomplete)
                {
                    if (start > 0)
                    {
                        buffer.AsSpan(start, end - start).CopyTo(buffer);
                        end -= start;
                        start = 0;
                    }
                    if (end > 0 && requestDue == 0)
                    {
                        requestDue = clock.NowNanos + _options.RequestTimeout.Ticks * 100;
                    }
                    long due = end == 0 ? clock.NowNanos + _options.KeepAliveTimeout.Ticks * 100 : requestDue;
                    int received = await ReceiveByAsync(connection, buffer.AsMemory(end), due);
                    if (received == 0)
                    {
                        return; // closed between requests, or mid-head: nothing to answer
                    }
                    end += received;
                }
                if (!read.IsHead)
                {
                    await RefuseAsync(connection, _error(read.RefuseStatus, read.Why!), buffer);
                    return;
                }
                start += read.Length;
                var head = read.Head;
                if (head.ContentLength > MaxBodyBytes)
                {
                    await RefuseAsync(connection, _error(413, $"the body is {head.ContentLength} bytes, more than {MaxBodyBytes}"), buffer);
                    return;
                }
                var body = new byte[head.ContentLength];
                int buffered = Math.Min(body.Length, end - start);
                buffer.AsSpan(start, buffered).CopyTo(body);
                start += buffered;
                if (requestDue == 0)
                {
                    requestDue = clock.NowNanos + _options.RequestTimeout.Ticks * 100; // the head came in one receive
                }
                for (int got = buffered; got < body.Length;)
                {
                    int received = await ReceiveByAsync(connection, body.AsMemory(got), requestDue);
                    if (received == 0)
                    {
                        return;
                    }
                    got += received;
                }
                var request = new HttpRequest(head.Method, head.Path, head.Query, body, head.KeepAlive);
                HttpResponse response;
                try
                {
                    response = await _handler(request);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Log.Warn(Subsystem, $"{request.Method} {request.Path} failed: {e.Message}");
                    response = _error(500, e.Message);
                }
                await connection.SendAsync(response.Encode(close: !request.KeepAlive));
                if (!request.KeepAlive)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Write(LogLevel.Debug, Subsystem, $"connection from {connection.RemoteEndPoint} ended: {e.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _open.Remove(connection);
            connection.Dispose();
        }
    }

    /// <summary>Receives, or closes the connection at <paramref name="dueNanos"/> (then the receive fails, and with it
    /// the connection's loop): a client that goes quiet mid-request, or idles past the keep-alive time, lets go of its
    /// slot.</summary>
    private static async ValueTask<int> ReceiveByAsync(Connection connection, Memory<byte> destination, long dueNanos)
    {
        var shard = Shard.Current!;
        var cutOff = shard.Schedule(dueNanos, static c => ((Connection)c!).Dispose(), connection);
        try
        {
            return await connection.ReceiveAsync(destination);
        }
        finally
        {
            cutOff.Cancel();
        }
    }

    /// <summary>
    /// Answers a request that cannot be served and ends the connection, after reading what the client still sends
    /// (at most <see cref="MaxDrainBytes"/>, for at most <see cref="DrainTime"/>): closing a socket with unread bytes
    /// resets it, and a reset can reach the client before it has read the answer saying why.
    /// </summary>
    private static async Task RefuseAsync(Connection connection, HttpResponse response, byte[] buffer)
    {
        await connection.SendAsync(response.Encode(close: true));
        var shard = Shard.Current!;
        var cutOff = shard.Schedule(shard.Clock.NowNanos + DrainTime.Ticks * 100, static c => ((Connection)c!).Dispose(), connection);
        try
        {
            for (long drained = 0; drained < MaxDrainBytes;)
            {
                int received = await connection.ReceiveAsync(buffer);
                if (received <= 0)
                {
                    break;
                }
                drained += received;
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Cut off, or the client went away: either way the connection is over.
        }
        finally
        {
            cutOff.Cancel();
        }
    }

    /// <summary>How long a refused request's connection is read before it is closed: 1 s.</summary>
    public static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(1);

    /// <summary>How much of a refused request's connection is read before it is closed: 1 MiB.</summary>
    public const long MaxDrainBytes = 1 << 20;

    /// <summary>Stops listening and closes every connection, a request in progress included.</summary>
    public async ValueTask DisposeAsync()
    {
        await _group.InvokeAsync(_shard, () =>
        {
            _listener.Dispose();
            foreach (var connection in _open.ToArray())
            {
                connection.Dispose();
            }
            return default(ValueTask);
        });
        await _accepting;
    }
}
