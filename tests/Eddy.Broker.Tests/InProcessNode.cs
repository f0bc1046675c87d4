using System.Net;
using Eddy.Kafka.Server;
using Eddy.Runtime;

namespace Eddy.Broker.Tests;

/// <summary>
/// A node in this process on a data directory the test owns, for tests that restart a node: disposing stops it as
/// <c>eddy start</c> does on SIGINT (server, then broker, then shards) and leaves the directory for the next start.
/// </summary>
internal sealed class InProcessNode : IAsyncDisposable
{
    private readonly ShardGroup _group;

    private InProcessNode(ShardGroup group, Cluster.Broker broker, KafkaServer server)
    {
        _group = group;
        Broker = broker;
        Server = server;
    }

    public Cluster.Broker Broker { get; }
    public KafkaServer Server { get; }
    public string Bootstrap => $"127.0.0.1:{Server.Port}";

    public static async Task<InProcessNode> StartAsync(string dataDirectory)
    {
        var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 2, PinThreads = false });
        var broker = await Cluster.Broker.StartAsync(group, new Cluster.BrokerOptions { DataDirectory = dataDirectory, OffsetsPartitions = 2, PreallocateBytes = 1 << 20 });
        var server = await KafkaServer.StartAsync(group, new IPEndPoint(IPAddress.Loopback, 0),
            new KafkaServerOptions { NodeId = BrokerFixture.NodeId, ClusterId = "restart-cluster" }, ApiHandlerTable.Create(broker));
        return new InProcessNode(group, broker, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync(TimeSpan.FromSeconds(10));
        await Broker.StopAsync();
        _group.Dispose();
    }
}
