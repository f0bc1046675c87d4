using Eddy.Cluster;
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
    public Cluster.Broker Broker { get; private set; } = null!;
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"eddy-broker-{Guid.NewGuid():N}");

    public string Bootstrap => $"127.0.0.1:{Server.Port}";

    public async Task InitializeAsync()
    {
        _group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 2, PinThreads = false });
        Broker = await Cluster.Broker.StartAsync(_group, new Cluster.BrokerOptions { DataDirectory = DataDirectory, OffsetsPartitions = 4, PreallocateBytes = 1 << 20 });
        Server = await KafkaServer.StartAsync(_group, new IPEndPoint(IPAddress.Loopback, 0),
            new KafkaServerOptions { NodeId = NodeId, ClusterId = "test-cluster", MaxRequestBytes = MaxRequestBytes }, ApiHandlerTable.Create(Broker));
    }

    public async Task DisposeAsync()
    {
        if (_group is not null)
        {
            await Server.StopAsync(TimeSpan.FromSeconds(10));
            await Broker.StopAsync();
            _group.Dispose();
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
