using System.Net;
using Eddy.Kafka.Protocol;
using Eddy.Net;
using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Kafka.Server;

/// <summary>
/// The Kafka API listener: every shard accepts on the same port (SO_REUSEPORT) and serves its connections
/// itself. It owns the handler table and what Metadata reports about this node. The listener can be closed and opened
/// again while the node runs (its Kafka role switched, KafkaServer.Listener.cs).
/// </summary>
public sealed partial class KafkaServer
{
    private readonly ShardGroup _group;
    // Open connections per shard; each set is touched only on its own shard, so it needs no lock.
    private readonly HashSet<KafkaConnection>[] _open;
    // Connections accepted before the bound port is known wait for it, so Metadata never advertises port 0.
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TcpServer? _tcp;
    private IPEndPoint _bound = new(IPAddress.Loopback, 0);
    private volatile bool _stopping;
    private long _connectionCount;

    private KafkaServer(ShardGroup group, KafkaServerOptions options, ApiHandlerTable handlers)
    {
        _group = group;
        Options = options;
        Handlers = handlers;
        Limits = new ProtocolLimits { MaxFrameBytes = options.MaxRequestBytes };
        _open = new HashSet<KafkaConnection>[group.Count];
        _apiStats = new KafkaApiStats[group.Count];
        for (int i = 0; i < _open.Length; i++)
        {
            _open[i] = [];
            _apiStats[i] = new KafkaApiStats();
        }
    }

    // Each shard's request counts, touched only on their shard.
    private readonly KafkaApiStats[] _apiStats;

    /// <summary>The requests answered on the calling shard, to record one in.</summary>
    internal KafkaApiStats ApiStatsHere => _apiStats[Shard.Current!.Id];

    /// <summary>A copy of shard <paramref name="shard"/>'s request counts, taken on that shard.</summary>
    public ValueTask<KafkaApiStats> ApiStatsAsync(int shard) => Smp.SubmitTo(shard, () =>
    {
        var copy = new KafkaApiStats();
        copy.Add(_apiStats[shard]);
        return copy;
    });

    public KafkaServerOptions Options { get; }
    public ApiHandlerTable Handlers { get; }
    public ProtocolLimits Limits { get; }
    public int NodeId => Options.NodeId;
    /// <summary>The cluster's id (the topic table's), reported in Metadata and DescribeCluster.</summary>
    public string ClusterId { get; private set; } = "";

    /// <summary>The port every shard listens on.</summary>
    public int Port { get; private set; }

    public string AdvertisedHost { get; private set; } = "";
    public int AdvertisedPort { get; private set; }

    internal bool Stopping => _stopping;

    public static async Task<KafkaServer> StartAsync(ShardGroup group, IPEndPoint endpoint, KafkaServerOptions options, ApiHandlerTable handlers, string clusterId)
    {
        var server = new KafkaServer(group, options, handlers) { ClusterId = clusterId };
        server._tcp = await TcpServer.StartAsync(group, endpoint, server.ServeAsync);
        server.Port = server._tcp.Port;
        server._bound = new IPEndPoint(endpoint.Address, server.Port);
        // A wildcard address cannot be dialled: advertise the host name instead, as Kafka does.
        server.AdvertisedHost = options.AdvertisedHost
            ?? (endpoint.Address.Equals(IPAddress.Any) ? Dns.GetHostName() : endpoint.Address.ToString());
        server.AdvertisedPort = options.AdvertisedPort != 0 ? options.AdvertisedPort : server.Port;
        server._ready.SetResult();
        return server;
    }

    private async ValueTask ServeAsync(Connection connection)
    {
        if (!_ready.Task.IsCompleted)
        {
            await _ready.Task;
        }
        if (_stopping || _closed)
        {
            return; // TcpServer closes it
        }
        var kafka = new KafkaConnection(this, connection, Interlocked.Increment(ref _connectionCount));
        var open = _open[connection.Shard.Id];
        open.Add(kafka);
        try
        {
            await kafka.RunAsync();
        }
        finally
        {
            open.Remove(kafka);
            kafka.MarkDone();
        }
    }

    /// <summary>
    /// Stops accepting, lets each connection finish the requests it has read (idle ones are closed at once),
    /// and waits up to <paramref name="timeout"/> for them to end.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        await _group.InvokeAsync(ListenerShard, async () =>
        {
            await _switch.EnterAsync();
            try
            {
                if (_tcp is not null)
                {
                    await _tcp.DisposeAsync();
                    _tcp = null;
                }
            }
            finally
            {
                _switch.Exit();
            }
        });
        await DrainAsync(timeout);
    }

    /// <summary>Has every open connection finish the requests it has read and close (idle ones at once), and waits up
    /// to <paramref name="timeout"/> for them to end.</summary>
    private async Task DrainAsync(TimeSpan timeout)
    {
        var done = new List<Task>();
        for (int i = 0; i < _group.Count; i++)
        {
            var open = _open[i];
            done.AddRange(await _group.InvokeAsync(i, () =>
            {
                var tasks = new List<Task>(open.Count);
                // A copy: closing may end a loop inline (epoll fails a pending receive at once), which removes it from the set.
                foreach (var connection in open.ToArray())
                {
                    tasks.Add(connection.Done);
                    connection.Shutdown();
                }
                return tasks;
            }));
        }
        try
        {
            await Task.WhenAll(done).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Log.Warn("kafka", $"{done.Count(t => !t.IsCompleted)} connections still open after {timeout.TotalSeconds:F0} s; stopping anyway");
        }
    }
}
