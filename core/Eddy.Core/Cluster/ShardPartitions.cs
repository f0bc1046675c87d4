using Eddy.Cluster.Producers;
using Eddy.Observability;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// The partitions one shard owns, by topic and index. Touched only on that shard, so it needs no lock.
/// Opening a partition recovers its log; closing flushes it; deleting also removes its directory.
/// </summary>
internal sealed class ShardPartitions
{
    private const string Subsystem = "cluster";

    /// <summary>Idempotent batches after which housekeeping writes a producer snapshot, bounding the replay after a crash.</summary>
    private const long SnapshotEveryBatches = 10_000;

    private readonly Dictionary<(string Topic, int Index), Partition> _partitions = [];
    private readonly BrokerOptions _options;
    private ShardStorage? _storage;

    public ShardPartitions(BrokerOptions options) => _options = options;

    public int Count => _partitions.Count;

    public IEnumerable<Partition> All => _partitions.Values;

    public bool TryGet(string topic, int index, out Partition partition) => _partitions.TryGetValue((topic, index), out partition!);

    public static string DirectoryOf(string dataDirectory, TopicInfo topic, int index)
        => Path.Combine(dataDirectory, "kafka", topic.Name, $"{index}_{topic.Revision}");

    public async ValueTask OpenAsync(TopicInfo topic, int index, long startOffset)
    {
        string directory = DirectoryOf(_options.DataDirectory, topic, index);
        await Shard.Current!.Files.CreateDirectoryAsync(directory);
        var options = LogOptionsFor(topic);
        var log = await PartitionLog.OpenAsync(directory, options, startOffset);
        var producers = await ProducerStateLoader.LoadAsync(log, options.WallClockMs());
        _partitions[(topic.Name, index)] = new Partition(topic, index, log, producers.Table);
    }

    /// <summary>Opens the given partitions of a new topic or of a topic that grew, one after another. On failure the
    /// caller undoes the whole change with <see cref="CloseNewAsync"/>, on every shard.</summary>
    public async ValueTask OpenNewAsync(TopicInfo topic, int[] indices)
    {
        foreach (int index in indices)
        {
            await OpenAsync(topic, index, 0);
        }
    }

    /// <summary>Closes those of the given partitions that <see cref="OpenNewAsync"/> opened, when the change they were
    /// for failed, and removes their directories: they were never published, so nothing in them was ever seen, and a
    /// retry of the change must not find them.</summary>
    public async ValueTask CloseNewAsync(TopicInfo topic, int[] indices)
    {
        foreach (int index in indices)
        {
            if (_partitions.Remove((topic.Name, index), out var partition))
            {
                await CloseAsync(partition, snapshot: false);
            }
            string directory = DirectoryOf(_options.DataDirectory, topic, index);
            try
            {
                await Shard.Current!.Files.DeleteDirectoryAsync(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.Warn(Subsystem, $"{directory}: left behind after a failed open ({e.Message})");
            }
        }
    }

    public LogOptions LogOptionsFor(TopicInfo topic)
        => TopicConfigs.ToLogOptions(topic, topic.IsInternal ? _options.InternalPreallocateBytes : _options.PreallocateBytes) with { Storage = Storage };

    /// <summary>The batch cache and read windows this shard's logs share, made on the shard when the first opens.</summary>
    private ShardStorage Storage => _storage ??= new ShardStorage(Shard.Current!, _options.BatchCacheBytes, _options.ReadWindowBytes);

    /// <summary>New configs for a topic's partitions on this shard.</summary>
    public void Reconfigure(TopicInfo topic)
    {
        foreach (var partition in _partitions.Values)
        {
            if (partition.Topic.Name == topic.Name)
            {
                partition.Topic = topic;
                partition.Log.Reconfigure(LogOptionsFor(topic));
            }
        }
    }

    /// <summary>Closes this shard's partitions of a topic; with <paramref name="delete"/>, removes their data too.</summary>
    public async ValueTask CloseTopicAsync(TopicInfo topic, bool delete)
    {
        foreach (var partition in _partitions.Values.Where(p => p.Topic.Name == topic.Name && p.Topic.Revision == topic.Revision).ToList())
        {
            await CloseAsync(partition, snapshot: !delete); // a deleted partition's snapshot would go with its directory
            _partitions.Remove((topic.Name, partition.Index));
            if (delete)
            {
                await Shard.Current!.Files.DeleteDirectoryAsync(partition.Log.Directory, recursive: true);
            }
        }
        if (delete)
        {
            string topicDirectory = Path.Combine(_options.DataDirectory, "kafka", topic.Name);
            var files = Shard.Current!.Files;
            if ((await files.EnumerateEntriesAsync(topicDirectory)).Length == 0)
            {
                await files.DeleteDirectoryAsync(topicDirectory, recursive: false);
            }
        }
    }

    public async ValueTask CloseAllAsync()
    {
        foreach (var partition in _partitions.Values)
        {
            await CloseAsync(partition, snapshot: true);
        }
        _partitions.Clear();
        _storage?.Dispose();
        _storage = null;
    }

    private static async ValueTask CloseAsync(Partition partition, bool snapshot)
    {
        partition.IsClosed = true;
        partition.WakeWaiters();
        try
        {
            // A snapshot at the log end spares the next start a replay.
            if (snapshot && partition.Log.Failure is null)
            {
                await partition.Producers.SnapshotAsync();
            }
            await partition.Log.DisposeAsync();
        }
        catch (Exception e)
        {
            Log.Error(Subsystem, $"{partition}: closing the log failed: {e.Message}");
        }
    }

    /// <summary>Retention and compaction for every partition on this shard, one at a time so appends keep going.</summary>
    public async ValueTask HousekeepAsync()
    {
        foreach (var partition in _partitions.Values.ToList())
        {
            if (partition.IsClosed)
            {
                continue;
            }
            try
            {
                var log = partition.Log;
                if ((log.Options.CleanupPolicy & CleanupPolicy.Delete) != 0)
                {
                    int deleted = await log.ApplyRetentionAsync();
                    if (deleted > 0)
                    {
                        Log.Info(Subsystem, $"{partition}: retention deleted {deleted} segments; log starts at {log.StartOffset}");
                    }
                }
                if ((log.Options.CleanupPolicy & CleanupPolicy.Compact) != 0)
                {
                    await Compactor.CompactAsync(log);
                }
                partition.Producers.Table.RemoveExpired(log.Options.WallClockMs());
                if (partition.Producers.Table.BatchesSinceSnapshot >= SnapshotEveryBatches)
                {
                    await partition.Producers.SnapshotAsync();
                }
            }
            catch (ObjectDisposedException)
            {
                // Deleted while we worked on it.
            }
            catch (Exception e)
            {
                Log.Error(Subsystem, $"{partition}: housekeeping failed: {e.Message}");
            }
        }
    }

    /// <summary>Runs <see cref="HousekeepAsync"/> every interval until <paramref name="stopping"/> says stop.</summary>
    public async Task HousekeepingLoopAsync(Func<bool> stopping)
    {
        var shard = Shard.Current!;
        while (!stopping())
        {
            await shard.Delay(_options.HousekeepingInterval);
            if (!stopping())
            {
                await HousekeepAsync();
            }
        }
    }
}
