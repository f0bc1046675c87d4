using System.Net;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Server;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Groups.Tests;

/// <summary>
/// A node in this process with the group APIs wired the way the integrator wires them: two shards, the 16
/// `__consumer_offsets` partitions spread over them (partition p on shard p % 2), and the Kafka server on a free
/// loopback port. Real clock, short delays.
/// </summary>
public sealed class GroupBrokerFixture : IAsyncLifetime
{
    public const int NodeId = 7;
    public const int ShardCount = 2;

    private readonly PartitionLog?[] _logs = new PartitionLog?[16];
    private ShardGroup? _group;
    private string _root = "";

    public KafkaServer Server { get; private set; } = null!;
    public GroupRouter Router { get; private set; } = null!;
    public string Bootstrap => $"127.0.0.1:{Server.Port}";

    public async Task InitializeAsync()
    {
        _root = Directory.CreateTempSubdirectory("eddy-group-broker-").FullName;
        _group = ShardGroup.Start(new ShardGroupOptions { ShardCount = ShardCount, PinThreads = false });
        Router = new GroupRouter(_group, partition => partition % ShardCount, new GroupCoordinatorOptions
        {
            OffsetsPartitionCount = _logs.Length,
            InitialRebalanceDelay = TimeSpan.FromMilliseconds(200),
            MinSessionTimeout = TimeSpan.FromSeconds(1),
        });
        for (int p = 0; p < _logs.Length; p++)
        {
            int partition = p;
            int shard = Router.ShardForPartition(partition);
            await _group.InvokeAsync(shard, async () =>
            {
                var log = await PartitionLog.OpenAsync(Path.Combine(_root, "kafka", GroupPlacement.OffsetsTopic, $"{partition}_0"), GroupScope.OffsetsLogOptions);
                _logs[partition] = log;
                await Router.CoordinatorOn(shard).AddPartitionAsync(partition, log);
                return true;
            });
        }
        var handlers = new ApiHandlerTable([new ApiVersionsHandler(), new MetadataHandler(), .. GroupHandlers.Create(Router)]);
        Server = await KafkaServer.StartAsync(_group, new IPEndPoint(IPAddress.Loopback, 0),
            new KafkaServerOptions { NodeId = NodeId, ClusterId = "group-tests" }, handlers);
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
        if (_group is null)
        {
            return;
        }
        // The integrator's order: release waiting group requests, stop the server, then close the logs.
        await Router.StopAsync();
        await Server.StopAsync(TimeSpan.FromSeconds(10));
        for (int p = 0; p < _logs.Length; p++)
        {
            if (_logs[p] is { } log)
            {
                await _group.InvokeAsync(Router.ShardForPartition(p), async () =>
                {
                    await log.DisposeAsync();
                    return true;
                });
            }
        }
        _group.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
