using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// The node's durable metadata on shard 0: topics, the revision counter, partition start offsets (moved by
/// DeleteRecords), the leader epoch of this node's partitions, and the cluster id of a directory from before the
/// controller. A kvstore in DATA/controller; with replication this becomes the controller's Raft log.
/// Shard 0 only; every change is durable when its call completes.
/// </summary>
internal sealed class MetadataStore : IAsyncDisposable
{
    private const string TopicPrefix = "topic/";
    private const string StartOffsetPrefix = "start/";
    private const string RevisionKey = "next-revision";
    private const string LeaderEpochKey = "leader-epoch";
    private const string ClusterIdKey = "cluster-id";

    private readonly KvStore _store;

    private MetadataStore(KvStore store) => _store = store;

    /// <summary>The kvstore itself, for the producer id allocator's key (producers/next-id-block).</summary>
    public KvStore Store => _store;

    public static async ValueTask<MetadataStore> OpenAsync(string directory)
    {
        await Shard.Current!.Files.CreateDirectoryAsync(directory);
        return new MetadataStore(await KvStore.OpenAsync(directory));
    }

    public List<TopicInfo> LoadTopics()
    {
        var topics = new List<TopicInfo>();
        foreach (string key in _store.Keys)
        {
            if (key.StartsWith(TopicPrefix, StringComparison.Ordinal) && _store.TryGet(key, out var value))
            {
                topics.Add(TopicRecord.Decode(value.Span));
            }
        }
        return topics;
    }

    /// <summary>A revision never handed out before, durable before it is returned.</summary>
    public async ValueTask<long> NextRevisionAsync()
    {
        long next = _store.TryGetInt64(RevisionKey, out long stored) ? stored : 1;
        await _store.PutInt64Async(RevisionKey, next + 1);
        return next;
    }

    /// <summary>The cluster id a data directory from before the controller recorded (made at its first start), or null.
    /// A cluster formed over such a directory keeps that id; the controller holds it from then on.</summary>
    public string? StoredClusterId => _store.TryGet(ClusterIdKey, out var stored) ? System.Text.Encoding.UTF8.GetString(stored.Span) : null;

    /// <summary>The leader epoch for the partitions this node leads from now on, one above the last start's, durable
    /// before it is returned, so no two starts lead in the same epoch. The first start leads in epoch 1.</summary>
    public async ValueTask<int> NextLeaderEpochAsync()
    {
        long next = _store.TryGetInt64(LeaderEpochKey, out long stored) ? stored + 1 : 1;
        if (next > int.MaxValue)
        {
            throw new InvalidOperationException($"leader epoch {next} does not fit Kafka's int32 epoch");
        }
        await _store.PutInt64Async(LeaderEpochKey, next);
        return (int)next;
    }

    /// <summary>Records <paramref name="epoch"/> as the last start's leader epoch (raised past one a log carries).</summary>
    public ValueTask PutLeaderEpochAsync(int epoch) => _store.PutInt64Async(LeaderEpochKey, epoch);

    public ValueTask PutTopicAsync(TopicInfo topic) => _store.PutAsync(TopicPrefix + topic.Name, TopicRecord.Encode(topic));

    public async ValueTask DeleteTopicAsync(TopicInfo topic)
    {
        for (int p = 0; p < topic.PartitionCount; p++)
        {
            string key = StartOffsetKey(topic, p);
            if (_store.TryGet(key, out _))
            {
                await _store.DeleteAsync(key);
            }
        }
        await _store.DeleteAsync(TopicPrefix + topic.Name);
    }

    public long StartOffset(TopicInfo topic, int partition) => _store.TryGetInt64(StartOffsetKey(topic, partition), out long offset) ? offset : 0;

    public ValueTask PutStartOffsetAsync(TopicInfo topic, int partition, long offset) => _store.PutInt64Async(StartOffsetKey(topic, partition), offset);

    private static string StartOffsetKey(TopicInfo topic, int partition) => $"{StartOffsetPrefix}{topic.Name}/{partition}_{topic.Revision}";

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
