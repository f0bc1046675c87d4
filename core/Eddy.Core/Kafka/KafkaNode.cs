using System.Net;
using Eddy.Cluster;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Server;
using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Kafka;

/// <summary>
/// A broker node's Kafka side put together: the topics and partitions (<see cref="Cluster.Broker"/>), the group
/// coordinators over the `__consumer_offsets` partitions, and the Kafka listener with every handler. `eddy start`
/// and the tests build nodes this one way. Start and stop are called from outside the shards.
/// </summary>
public sealed class KafkaNode
{
    /// <summary>How long start waits for the controller to record this broker before it serves anyway.</summary>
    private static readonly TimeSpan RegisterWait = TimeSpan.FromSeconds(5);

    private readonly ShardGroup _shards;
    private readonly KafkaRoleSwitch _roleSwitch;

    private KafkaNode(ShardGroup shards, Broker broker, GroupRouter groups, KafkaServer server, KafkaRoleSwitch roleSwitch)
    {
        _shards = shards;
        Broker = broker;
        Groups = groups;
        Server = server;
        _roleSwitch = roleSwitch;
    }

    public Broker Broker { get; }
    public GroupRouter Groups { get; }
    public KafkaServer Server { get; }

    /// <summary>Opens the data (recovering every log), loads the groups, then listens on <paramref name="endpoint"/>.</summary>
    public static async Task<KafkaNode> StartAsync(ShardGroup shards, BrokerOptions brokerOptions, IPEndPoint endpoint,
        KafkaServerOptions serverOptions, GroupCoordinatorOptions? groupOptions = null)
    {
        var broker = await Broker.StartAsync(shards, brokerOptions);
        try
        {
            var router = broker.Router;
            router.Topics.TryGet(TopicTable.OffsetsTopic, out var offsets);
            var defaults = groupOptions ?? new GroupCoordinatorOptions();
            var groups = new GroupRouter(shards, partition => router.ShardOf(TopicTable.OffsetsTopic, partition), new GroupCoordinatorOptions
            {
                // The topic's partition count is fixed when it is first created; the stored one wins over the option.
                OffsetsPartitionCount = offsets.PartitionCount,
                InitialRebalanceDelay = defaults.InitialRebalanceDelay,
                MinSessionTimeout = defaults.MinSessionTimeout,
                MaxSessionTimeout = defaults.MaxSessionTimeout,
                MaxGroupSize = defaults.MaxGroupSize,
                MaxOffsetMetadataBytes = defaults.MaxOffsetMetadataBytes,
                WallClockMs = defaults.WallClockMs,
                TopicPartitionExists = (topic, partition) => router.Topics.TryGet(topic, out var t) && partition >= 0 && partition < t.PartitionCount,
            });
            // Each shard's coordinator serves the groups of the offsets partitions led on that shard, and follows their
            // leadership from then on; start waits for the loads of those that lead now.
            router.WatchLeadership(partition =>
            {
                if (partition.Topic.Name == TopicTable.OffsetsTopic)
                {
                    _ = groups.CoordinatorOn(Shard.Current!.Id).FollowAsync(partition);
                }
            });
            var loading = new List<Task>();
            for (int s = 0; s < shards.Count; s++)
            {
                int shard = s;
                loading.Add(shards.InvokeAsync(shard, () => new ValueTask(Task.WhenAll(router.LocalPartitions
                    .Where(p => p.Topic.Name == TopicTable.OffsetsTopic)
                    .Select(p => groups.CoordinatorOn(shard).FollowAsync(p)).ToList()))));
            }
            await Task.WhenAll(loading);
            var handlers = ApiHandlerTable.Create(broker, groups);
            var controller = broker.Controller;
            var server = await KafkaServer.StartAsync(shards, endpoint, serverOptions.ForNode(controller.NodeId), handlers, controller.ClusterId);
            // Other nodes learn this broker's Kafka address from the controller. A node of a cluster whose majority is
            // down cannot register yet: it serves what it can meanwhile and keeps trying.
            var registering = controller.RegisterAsync(server.AdvertisedHost, server.AdvertisedPort, broker.Table.LeaderEpoch);
            if (await Task.WhenAny(registering, Task.Delay(RegisterWait)) != registering)
            {
                Log.Warn("controller", $"not registered with the controller within {RegisterWait.TotalSeconds:0} s; serving meanwhile");
            }
            // The listener was opened to learn and register its port; a node whose Kafka role is off closes it again.
            var roleSwitch = new KafkaRoleSwitch(broker, server);
            await roleSwitch.StartAsync(shards);
            return new KafkaNode(shards, broker, groups, server, roleSwitch);
        }
        catch
        {
            await broker.StopAsync();
            throw;
        }
    }

    /// <summary>Hands the leadership of the replicated partitions it leads to other nodes (clients are still answered,
    /// and sent there), answers waiting group requests, stops accepting and drains connections, then flushes and closes
    /// every log. In that order, so that no request waits on a log being closed.</summary>
    public async Task StopAsync(TimeSpan drainTimeout)
    {
        await _roleSwitch.StopAsync(_shards);
        await Broker.HandOffLeadershipAsync();
        await Groups.StopAsync();
        await Server.StopAsync(drainTimeout);
        await Broker.StopAsync();
    }
}
