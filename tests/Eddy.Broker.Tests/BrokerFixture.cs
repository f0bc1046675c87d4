using System.Net;
using Eddy.Kafka.Server;
using Eddy.Runtime;

namespace Eddy.Broker.Tests;

/// <summary>A real node in this process: two unpinned shards and the Kafka server on a free loopback port.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    public const int NodeId = 7;
    public const int MaxRequestBytes = 1024 * 1024;

    private ShardGroup? _group;

    public KafkaServer Server { get; private set; } = null!;

    public string Bootstrap => $"127.0.0.1:{Server.Port}";

    public async Task InitializeAsync()
    {
        _group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 2, PinThreads = false });
        Server = await KafkaServer.StartAsync(_group, new IPEndPoint(IPAddress.Loopback, 0),
            new KafkaServerOptions { NodeId = NodeId, ClusterId = "test-cluster", MaxRequestBytes = MaxRequestBytes });
    }

    public async Task DisposeAsync()
    {
        if (_group is not null)
        {
            await Server.StopAsync(TimeSpan.FromSeconds(10));
            _group.Dispose();
        }
    }
}
