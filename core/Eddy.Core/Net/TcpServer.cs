using System.Net;
using Eddy.Runtime;

namespace Eddy.Net;

/// <summary>
/// Listens on the same address on every shard (SO_REUSEPORT) and runs <c>handler</c> for each accepted
/// connection on the shard that accepted it. A port another socket listens on is refused, as a plain bind would be.
/// </summary>
public sealed class TcpServer : IAsyncDisposable
{
    private readonly ShardGroup _group;
    private readonly Listener?[] _listeners;
    private readonly Task[] _acceptLoops;

    private TcpServer(ShardGroup group)
    {
        _group = group;
        _listeners = new Listener?[group.Count];
        _acceptLoops = new Task[group.Count];
    }

    /// <summary>The port every shard listens on.</summary>
    public int Port { get; private set; }

    public static async Task<TcpServer> StartAsync(ShardGroup group, IPEndPoint endpoint, Func<Connection, ValueTask> handler)
    {
        var server = new TcpServer(group);
        var port = endpoint.Port;
        if (port != 0)
        {
            // SO_REUSEPORT would let this process join another's listener on the same port (a second node started with
            // the same address) and split its connections. A socket without it fails to bind where anyone listens.
            await group.InvokeAsync(0, () =>
            {
                Listener.Bind(endpoint, backlog: 1, reusePort: false).Dispose();
                return true;
            });
        }
        for (int i = 0; i < group.Count; i++)
        {
            // Port 0 means any: the first shard picks it, the others join it.
            var bindTo = new IPEndPoint(endpoint.Address, port);
            server._listeners[i] = await group.InvokeAsync(i, () => Listener.Bind(bindTo));
            port = server._listeners[i]!.Port;
        }
        server.Port = port;
        for (int i = 0; i < group.Count; i++)
        {
            var listener = server._listeners[i]!;
            server._acceptLoops[i] = group.InvokeAsync(i, () => AcceptLoop(listener, handler));
        }
        return server;
    }

    private static async ValueTask AcceptLoop(Listener listener, Func<Connection, ValueTask> handler)
    {
        while (true)
        {
            Connection connection;
            try
            {
                connection = await listener.AcceptAsync();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            _ = Serve(connection, handler);
        }
    }

    private static async Task Serve(Connection connection, Func<Connection, ValueTask> handler)
    {
        try
        {
            await handler(connection);
        }
        catch (Exception e)
        {
            // A failing connection ends alone; the others on this shard carry on.
            Observability.Log.Write(Observability.LogLevel.Debug, "net", $"connection ended: {e.Message}");
        }
        finally
        {
            connection.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = 0; i < _listeners.Length; i++)
        {
            if (_listeners[i] is { } listener)
            {
                await _group.InvokeAsync(i, () =>
                {
                    listener.Dispose();
                    return default(ValueTask);
                });
            }
        }
        await Task.WhenAll(_acceptLoops.Where(t => t is not null));
    }
}
