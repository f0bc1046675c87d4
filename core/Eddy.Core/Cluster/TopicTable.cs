using Eddy.Cluster.Producers;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// The node's topic table: which topics exist, their partition counts, configs, revisions and placement, as the
/// controller has them (<see cref="Controller"/>, whose log holds every change), with this node's partitions open to
/// match. Changes are proposed to the controller from any node (TopicTable.Changes.cs); once the controller has applied
/// one here, the table brings this node's partitions to it (TopicTable.Reconcile.cs) and publishes a new
/// <see cref="TopicsSnapshot"/> that readers on any shard see without locks: a request that finds a partition placed
/// here finds it open. Node-local state stays in the metadata store on shard 0: partitions' start offsets, the leader
/// epoch and producer id blocks.
/// </summary>
public sealed partial class TopicTable : IStartOffsetStore
{
    public const string OffsetsTopic = "__consumer_offsets";
    private const string Subsystem = "cluster";

    /// <summary>Where the table lives and its changes run.</summary>
    public const int ControllerShard = 0;

    private readonly AsyncGate _changes = new(); // shard 0: one reconciliation step or start-offset record at a time
    private readonly PartitionReconciler _reconciler;
    private MetadataStore _store = null!;
    private Controller _controller = null!;
    private volatile TopicsSnapshot _topics = TopicsSnapshot.Empty;

    private TopicTable(ShardGroup group, BrokerOptions options)
    {
        Options = options;
        // The reconciler records DeleteRecords' start offsets here; it only keeps the reference.
        _reconciler = new PartitionReconciler(group, options, this);
    }

    public BrokerOptions Options { get; }

    /// <summary>Whether asking for an unknown topic creates it: the cluster's auto_create_topics_enabled where set, else
    /// this node's setting. Any thread.</summary>
    public bool AutoCreateTopics => ClusterProperties.SetIn(_controller.View.Config, ClusterProperties.AutoCreateTopics) is { } set
        ? ClusterProperties.AutoCreateTopics.AsBoolean(set) : Options.AutoCreateTopics;

    /// <summary>Partitions of a topic created without a count: the cluster's default_topic_partitions where set, else
    /// this node's setting. Any thread.</summary>
    public int DefaultPartitions => ClusterProperties.SetIn(_controller.View.Config, ClusterProperties.DefaultTopicPartitions) is { } set
        ? (int)ClusterProperties.DefaultTopicPartitions.AsInteger(set) : Options.DefaultPartitions;

    /// <summary>Replication factor of a topic created without one: the cluster's default_topic_replications where set,
    /// else this node's setting. Any thread.</summary>
    public short DefaultReplicationFactor => ClusterProperties.SetIn(_controller.View.Config, ClusterProperties.DefaultTopicReplication) is { } set
        ? (short)ClusterProperties.DefaultTopicReplication.AsInteger(set) : Options.DefaultReplicationFactor;

    /// <summary>Topic configs' defaults now: the cluster's where set, else this node's. Any thread.</summary>
    public TopicDefaults TopicDefaults => TopicDefaults.For(_controller.View.Config, Options);

    /// <summary>What brings the shards' partitions to this table.</summary>
    internal PartitionReconciler Reconciler => _reconciler;

    /// <summary>Every topic now. Safe from any thread.</summary>
    public TopicsSnapshot Topics => _topics;

    /// <summary>This node's id in the cluster.</summary>
    public int NodeId => _controller.NodeId;

    /// <summary>The cluster's controller, which holds the topics.</summary>
    public Controller Controller => _controller;

    /// <summary>The epoch in which this node leads its partitions since it started (raised at every start, as a new
    /// leader raises it). Safe from any thread: it is set before the table is published.</summary>
    public int LeaderEpoch { get; private set; }

    /// <summary>Producer ids for InitProducerId, reserved in blocks through the controller (shard 0).</summary>
    public ProducerIdAllocator ProducerIds { get; private set; } = null!;

    /// <summary>Opens the metadata store on shard 0 and raises the leader epoch. The topics come from the controller
    /// (<see cref="AttachAsync"/>). Called from outside the shards.</summary>
    internal static async Task<TopicTable> LoadAsync(ShardGroup group, BrokerOptions options)
    {
        var table = new TopicTable(group, options);
        await group.InvokeAsync(ControllerShard, async () =>
        {
            table._store = await MetadataStore.OpenAsync(Path.Combine(options.DataDirectory, "controller"));
            table.ProducerIds = new ProducerIdAllocator(table.ReserveProducerIdsAsync);
            try
            {
                table._store.RefuseBeforeTheController();
            }
            catch
            {
                await table._store.DisposeAsync();
                throw;
            }
            table.LeaderEpoch = await table._store.NextLeaderEpochAsync();
        });
        return table;
    }

    /// <summary>Has the controller reserve this node's next block of <paramref name="count"/> producer ids. Shard 0.</summary>
    private async ValueTask<long> ReserveProducerIdsAsync(int count)
    {
        await _controller.ExecuteAsync(ControllerCommand.ReserveProducerIds(NodeId, count));
        // This node reserves one block at a time (the allocator's gate), so the block recorded for it is the new one.
        return _controller.View.ProducerIdBlocks[NodeId];
    }

    /// <summary>Raises the leader epoch to <paramref name="epoch"/>, durably, before the table is published. Called from
    /// outside the shards, at start.</summary>
    internal Task RaiseLeaderEpochAsync(ShardGroup group, int epoch) => group.InvokeAsync(ControllerShard, async () =>
    {
        await _store.PutLeaderEpochAsync(epoch);
        LeaderEpoch = epoch;
    });

    /// <summary>Closes the metadata store. Called from outside the shards, after the partitions closed.</summary>
    internal Task CloseAsync(ShardGroup group) => group.InvokeAsync(ControllerShard, () => _store.DisposeAsync());

    /// <summary>Records a partition's new start offset (DeleteRecords) durably in the metadata store; the partition then
    /// moves its log, so a crash in between finds it at the next start. Never moves a recorded start offset back (two
    /// DeleteRecords may arrive out of order), and records nothing for a topic deleted meanwhile.</summary>
    public ValueTask RecordStartOffsetAsync(TopicInfo topic, int partition, long offset)
        => Smp.SubmitTo(ControllerShard, async () =>
        {
            await _changes.EnterAsync();
            try
            {
                bool current = _topics.TryGet(topic.Name, out var now) && now.Revision == topic.Revision;
                if (current && offset > _store.StartOffset(topic, partition))
                {
                    await _store.PutStartOffsetAsync(topic, partition, offset);
                }
            }
            finally
            {
                _changes.Exit();
            }
        });

    private void Publish(Func<Dictionary<string, TopicInfo>, bool> change)
    {
        var current = _topics;
        var next = new Dictionary<string, TopicInfo>(current.ByName, StringComparer.Ordinal);
        if (change(next))
        {
            _topics = new TopicsSnapshot(next.Values);
        }
    }
}
