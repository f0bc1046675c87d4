using Eddy.Cluster.Producers;
using Eddy.Observability;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// The node's topics and partitions. Topic changes run on shard 0, one at a time, against the metadata store
/// (the future controller); each partition lives on the shard <see cref="PartitionPlacement"/> names, and its
/// work runs there. Readers on any shard see topics through <see cref="Topics"/>, a snapshot replaced after
/// every change: a partition is opened before the snapshot names it and closed after the snapshot drops it,
/// so a request that finds a topic in the snapshot finds its partition on the owner shard (or sees it closed).
/// </summary>
public sealed partial class Broker
{
    public const string OffsetsTopic = "__consumer_offsets";
    private const string Subsystem = "cluster";
    private const int ControllerShard = 0;

    private readonly ShardGroup _group;
    private readonly ShardPartitions[] _shards;
    private readonly AsyncGate _changes = new(); // shard 0: one topic change at a time
    private readonly List<Task> _housekeeping = [];
    private MetadataStore _store = null!;
    private volatile TopicsSnapshot _topics = TopicsSnapshot.Empty;
    private volatile bool _stopping;

    private Broker(ShardGroup group, BrokerOptions options)
    {
        _group = group;
        Options = options;
        _shards = new ShardPartitions[group.Count];
        for (int i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new ShardPartitions(options);
        }
    }

    public BrokerOptions Options { get; }
    public ShardGroup Group => _group;

    /// <summary>Producer ids for InitProducerId, reserved in blocks in the metadata store (shard 0).</summary>
    public ProducerIdAllocator ProducerIds { get; private set; } = null!;

    /// <summary>Every topic now. Safe from any thread.</summary>
    public TopicsSnapshot Topics => _topics;

    public int ShardOf(string topic, int partition) => PartitionPlacement.ShardOf(topic, partition, _group.Count);

    /// <summary>The partition when the calling shard owns it and it is open.</summary>
    public bool TryGetLocal(string topic, int partition, out Partition found)
    {
        var shard = Shard.Current ?? throw new InvalidOperationException("partitions are reached from their shard");
        return _shards[shard.Id].TryGet(topic, partition, out found) && !found.IsClosed;
    }

    /// <summary>Runs <paramref name="work"/> with the partition on its shard; <paramref name="missing"/> when that shard
    /// does not have it open (deleted or closed since the caller looked the topic up).</summary>
    public ValueTask<T> OnPartitionAsync<T>(string topic, int partition, Func<Partition, ValueTask<T>> work, T missing)
        => Smp.SubmitTo(ShardOf(topic, partition), () => TryGetLocal(topic, partition, out var found) ? work(found) : new ValueTask<T>(missing));

    /// <summary>This shard's open partitions.</summary>
    public IEnumerable<Partition> LocalPartitions => _shards[Shard.Current!.Id].All;

    /// <summary>Opens the metadata store and every partition (recovering their logs), and creates the offsets topic
    /// on first start. Called from outside the shards.</summary>
    public static async Task<Broker> StartAsync(ShardGroup group, BrokerOptions options)
    {
        var broker = new Broker(group, options);
        var (topics, starts) = await group.InvokeAsync(ControllerShard, async () =>
        {
            broker._store = await MetadataStore.OpenAsync(Path.Combine(options.DataDirectory, "controller"));
            broker.ProducerIds = new ProducerIdAllocator(broker._store.Store);
            var loaded = broker._store.LoadTopics();
            var offsets = loaded.ToDictionary(t => t.Name, t => Enumerable.Range(0, t.PartitionCount).Select(p => broker._store.StartOffset(t, p)).ToArray());
            return (loaded, offsets);
        });
        var opening = new List<Task>();
        for (int shard = 0; shard < group.Count; shard++)
        {
            int id = shard;
            opening.Add(group.InvokeAsync(id, async () =>
            {
                foreach (var topic in topics)
                {
                    for (int p = 0; p < topic.PartitionCount; p++)
                    {
                        if (broker.ShardOf(topic.Name, p) == id)
                        {
                            await broker._shards[id].OpenAsync(topic, p, starts[topic.Name][p]);
                        }
                    }
                }
            }));
        }
        await Task.WhenAll(opening);
        broker._topics = new TopicsSnapshot(topics);
        int partitions = topics.Sum(t => t.PartitionCount);
        Log.Info(Subsystem, $"opened {topics.Count} topics with {partitions} partitions from {Path.GetFullPath(options.DataDirectory)}");
        if (!broker._topics.TryGet(OffsetsTopic, out _))
        {
            var created = await group.InvokeAsync(ControllerShard, () => broker.CreateTopicOnControllerAsync(new TopicSpec(OffsetsTopic, options.OffsetsPartitions, 1,
                new Dictionary<string, string> { [TopicConfigs.CleanupPolicy] = "compact" }), validateOnly: false, isInternal: true));
            if (!created.IsOk)
            {
                throw new InvalidOperationException($"could not create {OffsetsTopic}: {created.Message}");
            }
        }
        for (int shard = 0; shard < group.Count; shard++)
        {
            int id = shard;
            broker._housekeeping.Add(group.InvokeAsync(id, () => broker._shards[id].HousekeepingLoopAsync(() => broker._stopping)).Unwrap());
        }
        return broker;
    }

    /// <summary>Flushes and closes every partition and the metadata store. Called from outside the shards, after
    /// the Kafka server stopped.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        var closing = new List<Task>();
        for (int shard = 0; shard < _group.Count; shard++)
        {
            int id = shard;
            closing.Add(_group.InvokeAsync(id, () => _shards[id].CloseAllAsync()));
        }
        await Task.WhenAll(closing);
        await _group.InvokeAsync(ControllerShard, () => _store.DisposeAsync());
        // The housekeeping loops wake at their next interval, see the flag and end; nothing waits for them.
    }

    private void Publish(Func<Dictionary<string, TopicInfo>, bool> change)
    {
        var current = _topics;
        var next = new Dictionary<string, TopicInfo>(current.ByName, StringComparer.Ordinal);
        if (change(next))
        {
            _topics = new TopicsSnapshot(next.Values);
        }
    }

    /// <summary>Runs <paramref name="work"/> on every shard, one shard after another; from shard 0.</summary>
    private async ValueTask OnEveryShardAsync(Func<ShardPartitions, ValueTask> work)
    {
        for (int shard = 0; shard < _group.Count; shard++)
        {
            var partitions = _shards[shard];
            await Smp.SubmitTo(shard, () => work(partitions));
        }
    }
}
