using System.Net;
using Eddy.Kafka;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Server;
using Eddy.Runtime;

namespace Eddy.Broker.Tests;

/// <summary>
/// A whole node in this process (<see cref="KafkaNode"/>: topics, groups, every handler) on two unpinned shards, a
/// loopback port (a free one unless the caller names one, as a restart that clients must find again does) and a
/// data directory the caller owns. Disposing stops it as <c>eddy start</c> does on SIGINT
/// and leaves the directory for the next start.
/// </summary>
internal sealed class InProcessNode : IAsyncDisposable
{
    private readonly ShardGroup _group;

    private InProcessNode(ShardGroup group, KafkaNode node)
    {
        _group = group;
        Node = node;
    }

    public KafkaNode Node { get; }
    public Cluster.Broker Broker => Node.Broker;
    public KafkaServer Server => Node.Server;
    public string Bootstrap => $"127.0.0.1:{Server.Port}";

    public static async Task<InProcessNode> StartAsync(string dataDirectory, int nodeId = BrokerFixture.NodeId,
        int maxRequestBytes = KafkaServerOptions.DefaultMaxRequestBytes, int port = 0, int minInsyncReplicas = 1, TimeSpan? housekeepingInterval = null)
    {
        var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 2, PinThreads = false });
        try
        {
            var node = await KafkaNode.StartAsync(group,
                new Cluster.BrokerOptions
                {
                    DataDirectory = dataDirectory, OffsetsPartitions = 4, PreallocateBytes = 1 << 20, MinInsyncReplicas = minInsyncReplicas,
                    HousekeepingInterval = housekeepingInterval ?? TimeSpan.FromMinutes(5),
                    Controller = new Cluster.ControllerOptions { NodeId = nodeId },
                },
                new IPEndPoint(IPAddress.Loopback, port),
                new KafkaServerOptions { MaxRequestBytes = maxRequestBytes },
                // Short delays so group tests do not wait Kafka's 3 s before the first rebalance.
                new GroupCoordinatorOptions { InitialRebalanceDelay = TimeSpan.FromMilliseconds(200), MinSessionTimeout = TimeSpan.FromSeconds(1) });
            return new InProcessNode(group, node);
        }
        catch
        {
            group.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Node.StopAsync(TimeSpan.FromSeconds(10));
        _group.Dispose();
    }
}
