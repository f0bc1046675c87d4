using System.Collections.Concurrent;
using Eddy.Raft;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>
/// Brings each shard's partitions to what the <see cref="TopicTable"/> says: opens the partitions of every recorded
/// topic at start, opens a new or grown topic's partitions on their shards (all of them or none), closes and deletes a
/// deleted topic's, hands new configs to the partitions of a reconfigured topic, runs housekeeping on every shard and
/// closes everything at stop. Each shard's partitions sit in that shard's <see cref="ShardPartitions"/>, touched only
/// on that shard. With replication, this is where a node will start and stop its replicas as placement changes.
/// </summary>
public sealed class PartitionReconciler
{
    private readonly ShardGroup _group;
    private readonly ShardPartitions[] _shards;
    private readonly List<Task> _housekeeping = [];
    private readonly ConcurrentDictionary<long, int> _groupShards = new();
    private volatile bool _stopping;
    private volatile Action<Partition>? _leadershipObserver;

    internal PartitionReconciler(ShardGroup group, BrokerOptions options, IStartOffsetStore starts)
    {
        _group = group;
        _shards = new ShardPartitions[group.Count];
        for (int i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new ShardPartitions(options, starts, _groupShards, OnLeadershipChanged);
        }
    }

    /// <summary>Joins the partitions' Raft groups to the controller: their connections and clock settings come from it,
    /// and the partitions' messages that peers send reach their shards through it. Once, before any partition opens.</summary>
    internal void Attach(Controller controller)
    {
        NodeId = controller.NodeId;
        foreach (var shard in _shards)
        {
            shard.Controller = controller;
        }
        controller.PartitionTraffic = RouteTraffic;
    }

    /// <summary>Who hears, on the partition's shard, that a replicated partition here started or stopped serving as
    /// leader (<see cref="Partition.IsLeader"/>). One observer per node; set before the changes it must not miss.</summary>
    internal void WatchLeadership(Action<Partition> observer) => _leadershipObserver = observer;

    private void OnLeadershipChanged(Partition partition) => _leadershipObserver?.Invoke(partition);

    /// <summary>A peer's messages for this node's replicas, on the shard that read them: each shard gets its own in one
    /// call; a group not open here is dropped (Raft sends again).</summary>
    private void RouteTraffic(List<GroupMessage> messages)
    {
        var byShard = new List<GroupMessage>?[_shards.Length];
        foreach (var message in messages)
        {
            if (_groupShards.TryGetValue(message.Group, out int shard))
            {
                (byShard[shard] ??= new List<GroupMessage>()).Add(message);
            }
        }
        for (int shard = 0; shard < byShard.Length; shard++)
        {
            if (byShard[shard] is { } mine)
            {
                var partitions = _shards[shard];
                if (Shard.Current?.Id == shard)
                {
                    partitions.StepReplicas(mine);
                }
                else
                {
                    _ = Smp.SubmitTo(shard, () => partitions.StepReplicas(mine)).AsTask();
                }
            }
        }
    }

    public int ShardOf(string topic, int partition) => PartitionPlacement.ShardOf(topic, partition, _group.Count);

    public int ShardCount => _group.Count;

    /// <summary>This node's id: only the partitions the controller placed here are opened. Set once, before any opens.</summary>
    internal int NodeId { get; set; }

    private bool IsHere(TopicInfo topic, int partition) => topic.HasReplicaOn(partition, NodeId);

    /// <summary>The partitions of shard <paramref name="shard"/>; touch them on that shard only.</summary>
    internal ShardPartitions On(int shard) => _shards[shard];

    /// <summary>Opens every partition of <paramref name="topics"/> placed on this node on its shard, the shards in parallel, recovering their
    /// logs. Called from outside the shards, at start.</summary>
    internal async Task OpenAllAsync(List<TopicInfo> topics, Dictionary<string, long[]> startOffsets, int leaderEpoch)
    {
        var opening = new List<Task>();
        for (int shard = 0; shard < _group.Count; shard++)
        {
            int id = shard;
            opening.Add(_group.InvokeAsync(id, async () =>
            {
                foreach (var topic in topics)
                {
                    for (int p = 0; p < topic.PartitionCount; p++)
                    {
                        if (ShardOf(topic.Name, p) == id && IsHere(topic, p))
                        {
                            await _shards[id].OpenAsync(topic, p, startOffsets[topic.Name][p], leaderEpoch);
                        }
                    }
                }
            }));
        }
        await Task.WhenAll(opening);
    }

    /// <summary>The highest leader epoch of any open partition (its log may carry a later one than the table gave it).
    /// Called from outside the shards, at start.</summary>
    internal async Task<int> HighestLeaderEpochAsync()
        => (await OnEveryShardFromOutsideAsync(shard => shard.All.Where(p => !p.IsReplicated).Select(p => p.LeaderEpoch).DefaultIfEmpty(0).Max())).Max();

    /// <summary>Every open partition leads in <paramref name="epoch"/> from now on. Called from outside the shards, at start.</summary>
    internal Task LeadInAsync(int epoch) => OnEveryShardFromOutsideAsync(shard =>
    {
        foreach (var partition in shard.All.Where(p => !p.IsReplicated))
        {
            partition.BecomeLeader(epoch);
        }
        return true;
    });

    /// <summary>Opens those of partitions [<paramref name="from"/>, <paramref name="to"/>) of a new or grown topic placed on
    /// this node on their
    /// shards, the shards in parallel (each open reserves space and syncs a directory). If any fails, the partitions
    /// opened are closed again on every shard, their directories removed, and the first failure is thrown. From shard code.</summary>
    internal async ValueTask OpenNewAsync(TopicInfo topic, int from, int to, int leaderEpoch)
    {
        var byShard = Enumerable.Range(from, to - from).Where(p => IsHere(topic, p)).GroupBy(p => ShardOf(topic.Name, p)).Select(g => (Shard: g.Key, Indices: g.ToArray())).ToList();
        var opening = new List<Task>();
        foreach (var (shard, indices) in byShard)
        {
            var partitions = _shards[shard];
            opening.Add(Smp.SubmitTo(shard, () => partitions.OpenNewAsync(topic, indices, leaderEpoch)).AsTask());
        }
        try
        {
            await Task.WhenAll(opening);
        }
        catch
        {
            foreach (var (shard, indices) in byShard)
            {
                var partitions = _shards[shard];
                await Smp.SubmitTo(shard, () => partitions.DeleteReplicasAsync(topic, indices));
            }
            throw;
        }
    }

    /// <summary>Follows a reassignment's placement changes between <paramref name="old"/> and <paramref name="now"/> (their
    /// common partitions): opens, empty, the replicas placed on this node since (their group's leader adds them and
    /// sends them its log), and closes and deletes those placed elsewhere since (their group removed them before the
    /// controller did). A replica that cannot be opened is logged and stays unavailable here. From shard code.</summary>
    internal async ValueTask FollowPlacementAsync(TopicInfo old, TopicInfo now, int leaderEpoch)
    {
        var common = Enumerable.Range(0, Math.Min(old.PartitionCount, now.PartitionCount)).ToList();
        foreach (var (shard, indices) in ByShard(now, common.Where(p => IsHere(now, p) && !IsHere(old, p))))
        {
            var partitions = _shards[shard];
            try
            {
                await Smp.SubmitTo(shard, () => partitions.OpenNewAsync(now, indices, leaderEpoch));
                Observability.Log.Info("replication", $"topic '{now.Name}': new replicas of partitions {string.Join(", ", indices)} on this node");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Observability.Log.Error("replication", $"topic '{now.Name}': replicas of partitions {string.Join(", ", indices)} placed on this node could not be opened: {e.Message}");
            }
        }
        foreach (var (shard, indices) in ByShard(now, common.Where(p => !IsHere(now, p) && IsHere(old, p))))
        {
            var partitions = _shards[shard];
            await Smp.SubmitTo(shard, () => partitions.DeleteReplicasAsync(now, indices));
            Observability.Log.Info("replication", $"topic '{now.Name}': replicas of partitions {string.Join(", ", indices)} moved off this node and deleted");
        }
    }

    private IEnumerable<(int Shard, int[] Indices)> ByShard(TopicInfo topic, IEnumerable<int> partitions)
        => partitions.GroupBy(p => ShardOf(topic.Name, p)).Select(g => (g.Key, g.ToArray())).ToList();

    /// <summary>Closes a topic's partitions on every shard; with <paramref name="delete"/>, removes their data. From shard code.</summary>
    internal ValueTask CloseTopicAsync(TopicInfo topic, bool delete) => OnEveryShardAsync(shard => shard.CloseTopicAsync(topic, delete));

    /// <summary>Gives a reconfigured topic's partitions their new settings on every shard. From shard code.</summary>
    internal ValueTask ReconfigureAsync(TopicInfo topic) => OnEveryShardAsync(shard =>
    {
        shard.Reconfigure(topic);
        return default;
    });

    /// <summary>Starts retention and compaction on every shard. Called from outside the shards.</summary>
    internal void StartHousekeeping()
    {
        for (int shard = 0; shard < _group.Count; shard++)
        {
            int id = shard;
            _housekeeping.Add(_group.InvokeAsync(id, () => _shards[id].HousekeepingLoopAsync(() => _stopping)).Unwrap());
        }
    }

    /// <summary>How long a stopping node waits for its replicas' leadership to move to other nodes.</summary>
    private static readonly TimeSpan HandOffTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Hands the leadership of every replicated partition this node leads to another replica, all shards at
    /// once, and waits (up to a second) until they took it: a node stopped with SIGTERM leaves no partition waiting out
    /// an election timeout. Called from outside the shards, before the Kafka server stops.</summary>
    internal async Task HandOffLeadershipAsync()
    {
        var left = await Task.WhenAll(Enumerable.Range(0, _group.Count).Select(id => _group.InvokeAsync(id, () => _shards[id].HandOffLeadershipAsync(HandOffTimeout).AsTask()).Unwrap()));
        if (left.Sum() > 0)
        {
            Observability.Log.Warn("replication", $"still leading {left.Sum()} partitions: no other replica took over within {HandOffTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>Has every replica on every shard take leadership again, after <see cref="HandOffLeadershipAsync"/> (this
    /// node's Kafka role is on again).</summary>
    internal Task AcceptLeadershipAsync()
        => Task.WhenAll(Enumerable.Range(0, _group.Count).Select(id => _group.InvokeAsync(id, () =>
        {
            _shards[id].AcceptLeadership();
            return true;
        })));

    /// <summary>Flushes and closes every partition. Called from outside the shards.</summary>
    internal async Task CloseAllAsync()
    {
        _stopping = true;
        var closing = new List<Task>();
        for (int shard = 0; shard < _group.Count; shard++)
        {
            int id = shard;
            closing.Add(_group.InvokeAsync(id, () => _shards[id].CloseAllAsync()));
        }
        await Task.WhenAll(closing);
        // The housekeeping loops wake at their next interval, see the flag and end; nothing waits for them.
    }

    /// <summary>Runs <paramref name="work"/> on every shard at once, from outside the shards, and returns each shard's answer.</summary>
    private Task<T[]> OnEveryShardFromOutsideAsync<T>(Func<ShardPartitions, T> work)
        => Task.WhenAll(Enumerable.Range(0, _group.Count).Select(id => _group.InvokeAsync(id, () => work(_shards[id]))));

    /// <summary>Runs <paramref name="work"/> on every shard, one shard after another. From shard code.</summary>
    private async ValueTask OnEveryShardAsync(Func<ShardPartitions, ValueTask> work)
    {
        for (int shard = 0; shard < _group.Count; shard++)
        {
            var partitions = _shards[shard];
            await Smp.SubmitTo(shard, () => work(partitions));
        }
    }
}
