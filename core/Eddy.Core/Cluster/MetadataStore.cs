using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// The node's own durable metadata on shard 0 (the cluster's is the controller's): partition start offsets (moved by
/// DeleteRecords) and the leader epoch of this node's partitions. A kvstore in DATA/controller.
/// Shard 0 only; every change is durable when its call completes.
/// </summary>
internal sealed class MetadataStore : IAsyncDisposable
{
    private const string StartOffsetPrefix = "start/";
    private const string LeaderEpochKey = "leader-epoch";
    private const string LegacyClusterIdKey = "cluster-id";
    private const string LegacyTopicPrefix = "topic/";

    private readonly KvStore _store;

    private MetadataStore(KvStore store) => _store = store;

    public static async ValueTask<MetadataStore> OpenAsync(string directory)
    {
        await Shard.Current!.Files.CreateDirectoryAsync(directory);
        return new MetadataStore(await KvStore.OpenAsync(directory));
    }

    /// <summary>Refuses a data directory written before the controller held the topics (its topics, revisions and
    /// cluster id were kept here): this version does not read them, and starting over them would reuse their partition
    /// directories.</summary>
    public void RefuseBeforeTheController()
    {
        foreach (string key in _store.Keys)
        {
            if (key.StartsWith(LegacyTopicPrefix, StringComparison.Ordinal) || key == LegacyClusterIdKey)
            {
                throw new InvalidOperationException("the data directory was written by an Eddy from before the controller held the topics; " +
                    "this version does not read it: start on an empty data directory");
            }
        }
    }

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

    /// <summary>Forgets the start offsets of a deleted topic's partitions.</summary>
    public async ValueTask DeleteStartOffsetsAsync(TopicInfo topic)
    {
        for (int p = 0; p < topic.PartitionCount; p++)
        {
            string key = StartOffsetKey(topic, p);
            if (_store.TryGet(key, out _))
            {
                await _store.DeleteAsync(key);
            }
        }
    }

    public long StartOffset(TopicInfo topic, int partition) => _store.TryGetInt64(StartOffsetKey(topic, partition), out long offset) ? offset : 0;

    public ValueTask PutStartOffsetAsync(TopicInfo topic, int partition, long offset) => _store.PutInt64Async(StartOffsetKey(topic, partition), offset);

    private static string StartOffsetKey(TopicInfo topic, int partition) => $"{StartOffsetPrefix}{topic.Name}/{partition}_{topic.Revision}";

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
