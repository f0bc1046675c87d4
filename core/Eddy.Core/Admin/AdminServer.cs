using System.Net;
using Eddy.Config;
using Eddy.Http;
using Eddy.Kafka;
using Eddy.Runtime;

namespace Eddy.Admin;

/// <summary>
/// The admin HTTP API (docs/admin-api.md) on <c>admin_addr</c>, served from the controller's shard, where the cluster
/// view it reads is kept. It starts before the node's data is open, so that /v1/status/ready can say 503 while the
/// node starts; the endpoints that need the node say 503 too until <see cref="Serve"/> hands it over.
/// </summary>
public sealed class AdminServer : IAsyncDisposable
{
    private readonly HttpServer _http;
    private readonly AdminContext _context;

    private AdminServer(HttpServer http, AdminContext context)
    {
        _http = http;
        _context = context;
    }

    public int Port => _http.Port;

    /// <param name="http">The HTTP server's limits; default: <see cref="HttpServerOptions"/>'s.</param>
    public static async Task<AdminServer> StartAsync(ShardGroup group, IPEndPoint endpoint, NodeConfig config, string version,
        HttpServerOptions? http = null)
    {
        var context = new AdminContext(group, config, version);
        var routes = new HttpRoutes(AdminJson.Error);
        StatusEndpoints.Map(routes, context);
        NodeConfigEndpoint.Map(routes, context);
        BrokerEndpoints.Map(routes, context);
        DecommissionEndpoints.Map(routes, context);
        FeaturesEndpoint.Map(routes, context);
        PartitionEndpoints.Map(routes, context);
        HealthEndpoint.Map(routes, context);
        MetricsEndpoint.Map(routes, context);
        ClusterConfigEndpoints.Map(routes, context);
        var server = await HttpServer.StartAsync(group, Cluster.Controller.Shard, endpoint, routes.DispatchAsync, AdminJson.Error, http);
        context.AdminPort = server.Port;
        return new AdminServer(server, context);
    }

    /// <summary>The node is up: every endpoint answers from it, and ready says 200.</summary>
    public void Serve(KafkaNode node) => _context.Node = node;

    /// <summary>The node is stopping: ready says 503 again.</summary>
    public void Stopping()
    {
        _context.IsStopping = true;
        _context.Node = null;
    }

    public ValueTask DisposeAsync() => _http.DisposeAsync();
}

/// <summary>What the endpoints read: the shards, the node's settings, its version, and the node once it is up.</summary>
public sealed class AdminContext(ShardGroup shards, NodeConfig config, string version)
{
    public ShardGroup Shards { get; } = shards;
    public NodeConfig Config { get; } = config;
    public string Version { get; } = version;

    /// <summary>The port the admin API listens on (the one picked, for port 0).</summary>
    public int AdminPort { get; set; }

    /// <summary>Set once the node began to stop: ready then says "stopping" rather than "booting".</summary>
    public volatile bool IsStopping;

    /// <summary>The running node, or null while it starts or stops.</summary>
    public volatile KafkaNode? Node;

    /// <summary>A handler that needs the node: while there is none (starting or stopping) the request gets a 503.</summary>
    public HttpRoutes.Handler WithNode(Func<KafkaNode, HttpRequest, RouteValues, ValueTask<HttpResponse>> handler)
        => (request, values) => Node is { } node ? handler(node, request, values)
            : new ValueTask<HttpResponse>(AdminJson.Error(503, "the node is not serving: it is starting or stopping"));
}
