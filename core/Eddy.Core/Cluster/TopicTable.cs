using Eddy.Cluster.Producers;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// The node's topic table: which topics exist, their partition counts, configs and revisions, the partitions' start
/// offsets and leader epoch, durable in the metadata store on shard 0. This is the state machine the controller will
/// replicate: every change runs on shard 0, one at a time, is validated, recorded, and then published as a new
/// <see cref="TopicsSnapshot"/> that readers on any shard see without locks. Bringing the shards' partitions to what
/// the table says is <see cref="PartitionReconciler"/>'s job; the table asks it to before it publishes a new or grown
/// topic (so a request that finds a partition in the snapshot finds it open) and after it drops a deleted one.
/// </summary>
public sealed partial class TopicTable : IStartOffsetStore
{
    public const string OffsetsTopic = "__consumer_offsets";
    private const string Subsystem = "cluster";

    /// <summary>Where the table lives and its changes run.</summary>
    public const int ControllerShard = 0;

    private readonly AsyncGate _changes = new(); // shard 0: one topic change at a time
    private readonly PartitionReconciler _reconciler;
    private MetadataStore _store = null!;
    private volatile TopicsSnapshot _topics = TopicsSnapshot.Empty;

    private TopicTable(ShardGroup group, BrokerOptions options)
    {
        Options = options;
        // The reconciler records DeleteRecords' start offsets here; it only keeps the reference.
        _reconciler = new PartitionReconciler(group, options, this);
    }

    public BrokerOptions Options { get; }

    /// <summary>What brings the shards' partitions to this table.</summary>
    internal PartitionReconciler Reconciler => _reconciler;

    /// <summary>Every topic now. Safe from any thread.</summary>
    public TopicsSnapshot Topics => _topics;

    /// <summary>The epoch in which this node leads its partitions since it started (raised at every start, as a new
    /// leader raises it). Safe from any thread: it is set before the table is published.</summary>
    public int LeaderEpoch { get; private set; }

    /// <summary>The cluster id a data directory from before the controller recorded, or null; the controller adopts it
    /// when it forms the cluster.</summary>
    internal string? StoredClusterId { get; private set; }

    /// <summary>Producer ids for InitProducerId, reserved in blocks in the metadata store (shard 0).</summary>
    public ProducerIdAllocator ProducerIds { get; private set; } = null!;

    /// <summary>Opens the metadata store on shard 0, raises the leader epoch and returns the table with the topics it
    /// records (not yet published: <see cref="PublishLoaded"/> does that once their partitions are open) and each
    /// partition's start offset. Called from outside the shards.</summary>
    internal static async Task<(TopicTable Table, List<TopicInfo> Topics, Dictionary<string, long[]> StartOffsets)> LoadAsync(
        ShardGroup group, BrokerOptions options)
    {
        var table = new TopicTable(group, options);
        var (topics, starts) = await group.InvokeAsync(ControllerShard, async () =>
        {
            table._store = await MetadataStore.OpenAsync(Path.Combine(options.DataDirectory, "controller"));
            table.ProducerIds = new ProducerIdAllocator(table._store.Store);
            table.StoredClusterId = table._store.StoredClusterId;
            table.LeaderEpoch = await table._store.NextLeaderEpochAsync();
            var loaded = table._store.LoadTopics();
            var offsets = loaded.ToDictionary(t => t.Name, t => Enumerable.Range(0, t.PartitionCount).Select(p => table._store.StartOffset(t, p)).ToArray());
            return (loaded, offsets);
        });
        return (table, topics, starts);
    }

    /// <summary>Raises the leader epoch to <paramref name="epoch"/>, durably, before the table is published. Called from
    /// outside the shards, at start.</summary>
    internal Task RaiseLeaderEpochAsync(ShardGroup group, int epoch) => group.InvokeAsync(ControllerShard, async () =>
    {
        await _store.PutLeaderEpochAsync(epoch);
        LeaderEpoch = epoch;
    });

    /// <summary>Publishes the topics loaded at start, once their partitions are open.</summary>
    internal void PublishLoaded(IEnumerable<TopicInfo> topics) => _topics = new TopicsSnapshot(topics);

    /// <summary>Creates the offsets topic on the first start.</summary>
    internal async Task EnsureOffsetsTopicAsync(ShardGroup group)
    {
        if (_topics.TryGet(OffsetsTopic, out _))
        {
            return;
        }
        var created = await group.InvokeAsync(ControllerShard, () => CreateOnControllerAsync(new TopicSpec(OffsetsTopic, Options.OffsetsPartitions, 1,
            new Dictionary<string, string> { [TopicConfigs.CleanupPolicy] = "compact" }), validateOnly: false, isInternal: true));
        if (!created.IsOk)
        {
            throw new InvalidOperationException($"could not create {OffsetsTopic}: {created.Message}");
        }
    }

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
