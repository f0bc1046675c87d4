using System.Net;
using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Server;
using Eddy.Runtime;

namespace Eddy.Groups.Tests;

/// <summary>
/// A whole node in this process (<see cref="KafkaNode"/>), wired as `eddy start` wires it: two shards, the 16
/// `__consumer_offsets` partitions spread over them by the broker's placement, and the Kafka server on a free
/// loopback port. Real clock, short delays. Offsets are committed only for topics that exist, so tests create them.
/// </summary>
public sealed class GroupBrokerFixture : IAsyncLifetime
{
    public const int NodeId = 7;
    public const int ShardCount = 2;

    private ShardGroup? _group;
    private KafkaNode? _node;
    private string _root = "";

    public KafkaServer Server => _node!.Server;
    public GroupRouter Router => _node!.Groups;
    public Cluster.Broker Broker => _node!.Broker;
    public string Bootstrap => $"127.0.0.1:{Server.Port}";

    public async Task InitializeAsync()
    {
        _root = Directory.CreateTempSubdirectory("eddy-group-broker-").FullName;
        _group = ShardGroup.Start(new ShardGroupOptions { ShardCount = ShardCount, PinThreads = false });
        _node = await KafkaNode.StartAsync(_group,
            new BrokerOptions { DataDirectory = _root, OffsetsPartitions = 16, PreallocateBytes = 1 << 20, Controller = new ControllerOptions { NodeId = NodeId } },
            new IPEndPoint(IPAddress.Loopback, 0),
            new KafkaServerOptions(),
            new GroupCoordinatorOptions { InitialRebalanceDelay = TimeSpan.FromMilliseconds(200), MinSessionTimeout = TimeSpan.FromSeconds(1) });
        // The topics the tests commit offsets for: commits for topics that do not exist are refused.
        foreach (var topic in new[] { "orders", "t", "events", "py-topic" })
        {
            await CreateTopicAsync(topic);
        }
    }

    /// <summary>Creates a topic for offset commits to name; partitions default to 8.</summary>
    public async Task CreateTopicAsync(string name, int partitions = 8)
    {
        var result = await _group!.InvokeAsync(0, () => Broker.Table.CreateTopicAsync(new TopicSpec(name, partitions, 1, new Dictionary<string, string>()), validateOnly: false));
        Assert.True(result.IsOk || result.Error == KafkaErrors.TopicAlreadyExists, result.Message);
    }

    /// <summary>A group id whose coordinator is on <paramref name="shard"/>.</summary>
    public string GroupOnShard(string prefix, int shard)
    {
        for (int i = 0; ; i++)
        {
            string id = $"{prefix}-{i}";
            if (Router.ShardFor(id) == shard)
            {
                return id;
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.StopAsync(TimeSpan.FromSeconds(10));
        }
        _group?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
