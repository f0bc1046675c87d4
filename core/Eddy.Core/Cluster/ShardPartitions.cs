using System.Collections.Concurrent;
using Eddy.Observability;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// The partitions one shard owns, by topic and index, and the Raft replicas among them. Touched only on that shard, so
/// it needs no lock. Opening a partition recovers its log (and joins its Raft group when it is replicated); closing
/// flushes it; deleting also removes its directory.
/// </summary>
internal sealed class ShardPartitions
{
    private const string Subsystem = "cluster";

    private readonly Dictionary<(string Topic, int Index), Partition> _partitions = [];
    private readonly BrokerOptions _options;
    private readonly IStartOffsetStore _starts;
    private readonly ConcurrentDictionary<long, int> _groupShards;
    private readonly Action<Partition> _leadershipChanged;
    private ShardStorage? _storage;
    private ShardReplicas? _replicas;

    /// <param name="groupShards">Every replicated partition's group open on this node, and its shard: where the RPC
    /// shards send a peer's messages for it.</param>
    /// <param name="leadershipChanged">Told, on this shard, of each replicated partition here that starts or stops
    /// serving as leader.</param>
    public ShardPartitions(BrokerOptions options, IStartOffsetStore starts, ConcurrentDictionary<long, int> groupShards, Action<Partition> leadershipChanged)
    {
        _options = options;
        _starts = starts;
        _groupShards = groupShards;
        _leadershipChanged = leadershipChanged;
    }

    /// <summary>The controller, whose connections and clock settings the replicas use. Set before any partition opens.</summary>
    internal Controller? Controller { get; set; }

    /// <summary>Peers' messages for this shard's replicas.</summary>
    public void StepReplicas(List<Raft.GroupMessage> messages) => _replicas?.Step(messages);

    public int Count => _partitions.Count;

    public IEnumerable<Partition> All => _partitions.Values;

    public bool TryGet(string topic, int index, out Partition partition) => _partitions.TryGetValue((topic, index), out partition!);

    public static string DirectoryOf(string dataDirectory, TopicInfo topic, int index)
        => Path.Combine(dataDirectory, "kafka", topic.Name, $"{index}_{topic.Revision}");

    /// <summary>Opens a partition (recovering its log) as its leader in <paramref name="leaderEpoch"/>.</summary>
    public async ValueTask OpenAsync(TopicInfo topic, int index, long startOffset, int leaderEpoch)
    {
        string directory = DirectoryOf(_options.DataDirectory, topic, index);
        await Shard.Current!.Files.CreateDirectoryAsync(directory);
        ReplicaSetup? replica = null;
        if (topic.IsReplicated(index))
        {
            var controller = Controller ?? throw new InvalidOperationException("replicated partitions open once the controller is known");
            replica = (_replicas ??= new ShardReplicas(controller, _options.Controller, _options.ReplicaLagTime, _leadershipChanged)).SetupFor(topic, index);
        }
        var partition = await Partition.OpenAsync(topic, index, directory, LogOptionsFor(topic), startOffset, leaderEpoch, _starts, replica);
        _partitions[(topic.Name, index)] = partition;
        if (replica is not null)
        {
            _replicas!.Add(partition);
            _groupShards[replica.Group] = Shard.Current.Id;
        }
    }

    /// <summary>Takes a closed partition out of this shard's Raft traffic.</summary>
    private void Forget(Partition partition)
    {
        if (partition.Raft is { } raft)
        {
            _replicas!.Remove(partition);
            _groupShards.TryRemove(raft.Group, out _);
        }
    }

    /// <summary>Opens the given partitions of a new topic or of a topic that grew, one after another. On failure the
    /// caller undoes the whole change with <see cref="DeleteReplicasAsync"/>, on every shard.</summary>
    public async ValueTask OpenNewAsync(TopicInfo topic, int[] indices, int leaderEpoch)
    {
        foreach (int index in indices)
        {
            await OpenAsync(topic, index, 0, leaderEpoch);
        }
    }

    /// <summary>Closes the given partitions where open and removes their directories: those <see cref="OpenNewAsync"/>
    /// opened for a change that failed (never published, so nothing in them was ever seen, and a retry of the change
    /// must not find them), and replicas a completed reassignment moved off this node (their group no longer counts
    /// them).</summary>
    public async ValueTask DeleteReplicasAsync(TopicInfo topic, int[] indices)
    {
        foreach (int index in indices)
        {
            if (_partitions.Remove((topic.Name, index), out var partition))
            {
                Forget(partition);
                await partition.CloseAsync(snapshot: false);
            }
            string directory = DirectoryOf(_options.DataDirectory, topic, index);
            try
            {
                await Shard.Current!.Files.DeleteDirectoryAsync(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.Warn(Subsystem, $"{directory}: left behind ({e.Message})");
            }
        }
    }

    public LogOptions LogOptionsFor(TopicInfo topic)
        => TopicConfigs.ToLogOptions(topic, TopicDefaults.For(Controller!.View.Config, _options),
            topic.IsInternal ? _options.InternalPreallocateBytes : _options.PreallocateBytes) with { Storage = Storage };

    /// <summary>The batch cache and read windows this shard's logs share, made on the shard when the first opens.</summary>
    private ShardStorage Storage => _storage ??= new ShardStorage(Shard.Current!, _options.BatchCacheBytes, _options.ReadWindowBytes);

    /// <summary>New configs for a topic's partitions on this shard.</summary>
    public void Reconfigure(TopicInfo topic)
    {
        foreach (var partition in _partitions.Values)
        {
            if (partition.Topic.Name == topic.Name)
            {
                partition.Reconfigure(topic, LogOptionsFor(topic));
            }
        }
    }

    /// <summary>Closes this shard's partitions of a topic; with <paramref name="delete"/>, removes their data too.</summary>
    public async ValueTask CloseTopicAsync(TopicInfo topic, bool delete)
    {
        foreach (var partition in _partitions.Values.Where(p => p.Topic.Name == topic.Name && p.Topic.Revision == topic.Revision).ToList())
        {
            // A deleted partition's snapshot would go with its directory.
            Forget(partition);
            string directory = await partition.CloseAsync(snapshot: !delete);
            _partitions.Remove((topic.Name, partition.Index));
            if (delete)
            {
                await Shard.Current!.Files.DeleteDirectoryAsync(directory, recursive: true);
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

    /// <summary>Hands the leadership of every replica leading on this shard to another of its replicas (the node is
    /// stopping), has every replica here decline leadership from now on, and waits until none leads here, or
    /// <paramref name="timeout"/> passes. Returns how many still lead.</summary>
    public async ValueTask<int> HandOffLeadershipAsync(TimeSpan timeout)
    {
        foreach (var partition in _partitions.Values)
        {
            partition.Raft?.DeclineLeadership();
        }
        var leading = _partitions.Values.Where(p => p.Raft is { Role: Raft.Role.Leader }).ToList();
        foreach (var partition in leading)
        {
            partition.Raft!.HandOffLeadership();
        }
        var shard = Shard.Current!;
        long deadline = shard.Clock.NowNanos + timeout.Ticks * 100;
        while (StillLeading() > 0 && shard.Clock.NowNanos < deadline)
        {
            await shard.Delay(TimeSpan.FromMilliseconds(5));
        }
        return StillLeading();

        int StillLeading() => leading.Count(p => p.Raft is { Role: Raft.Role.Leader, Failure: null });
    }

    /// <summary>Every replica here takes leadership again (this node serves Kafka clients again).</summary>
    public void AcceptLeadership()
    {
        foreach (var partition in _partitions.Values)
        {
            partition.Raft?.AcceptLeadership();
        }
    }

    public async ValueTask CloseAllAsync()
    {
        foreach (var partition in _partitions.Values)
        {
            Forget(partition);
            await partition.CloseAsync(snapshot: true);
        }
        _partitions.Clear();
        _replicas?.Dispose();
        _replicas = null;
        _storage?.Dispose();
        _storage = null;
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
                await partition.HousekeepAsync();
            }
            catch (LogClosedException)
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
