using Eddy.Errors;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>
/// The per-partition part of one request, written once for every handler that has one: the handler adds the
/// partitions in request order, each with the work to run on it; <see cref="RunAsync"/> groups them by owner shard,
/// makes one cross-shard call per shard, where that shard's partitions are all started before any is awaited (so
/// their appends share a group commit and their reads overlap), and returns the outcomes in the order they were added.
/// A partition that is not in the topic, or no longer open on its shard, gets UNKNOWN_TOPIC_OR_PARTITION; one led by
/// another node (or a replica here that does not lead its group now), NOT_LEADER_OR_FOLLOWER; a failure
/// of its work becomes a Kafka code (<see cref="PartitionErrors"/>), so every partition gets an outcome and every work
/// started is awaited. Created, run and read on one shard, once.
/// </summary>
public sealed class PartitionFanOut<TOutcome>
{
    private readonly PartitionRouter _router;
    private readonly Func<short, string?, TOutcome> _failed;
    private readonly List<Entry> _entries = [];
    private TOutcome[]? _outcomes;

    internal PartitionFanOut(PartitionRouter router, Func<short, string?, TOutcome> failed)
    {
        _router = router;
        _failed = failed;
    }

    public int Count => _entries.Count;

    /// <summary>Adds partition <paramref name="index"/> of <paramref name="topic"/> (null: not found) with its work.</summary>
    public void Add(TopicInfo? topic, int index, Func<Partition, ValueTask<TOutcome>> work)
    {
        if (topic is null || index < 0 || index >= topic.PartitionCount)
        {
            AddFailed(KafkaErrors.UnknownTopicOrPartition);
            return;
        }
        if (topic.IsReplicated(index) && !topic.HasReplicaOn(index, _router.NodeId))
        {
            AddFailed(KafkaErrors.NotLeaderOrFollower, $"partition {index} of '{topic.Name}' has no replica on node {_router.NodeId}");
            return;
        }
        if (!topic.IsReplicated(index) && topic.LeaderOf(index) is int leader && leader != _router.NodeId)
        {
            // The client's metadata is stale or it chose the wrong node: it refreshes and goes to the leader.
            AddFailed(KafkaErrors.NotLeaderOrFollower, $"partition {index} of '{topic.Name}' is led by node {leader}");
            return;
        }
        _entries.Add(new Entry(topic.Name, index, _router.ShardOf(topic.Name, index), work, KafkaErrors.None, null));
    }

    /// <summary>Adds a partition that the handler already refused, keeping its place in the request order.</summary>
    public void AddFailed(short error, string? message = null)
    {
        Invariant(error != KafkaErrors.None, "a refused partition has an error");
        _entries.Add(new Entry(null, -1, -1, null, error, message));
    }

    /// <summary>Runs every partition's work on its shard and returns the outcomes in the order they were added.</summary>
    public async ValueTask<TOutcome[]> RunAsync()
    {
        Invariant(_outcomes is null, "a fan-out runs once");
        var outcomes = _outcomes = new TOutcome[_entries.Count];
        // The routed entries grouped by shard, request order kept within each (a counting sort: no map per request).
        var firstOfShard = new int[_router.ShardCount + 1];
        int routed = 0;
        for (int i = 0; i < _entries.Count; i++)
        {
            var entry = _entries[i];
            if (entry.Work is null)
            {
                outcomes[i] = _failed(entry.Error, entry.Message);
                continue;
            }
            firstOfShard[entry.Shard + 1]++;
            routed++;
        }
        if (routed == 0)
        {
            return outcomes;
        }
        int shards = 0;
        for (int shard = 0; shard < _router.ShardCount; shard++)
        {
            shards += firstOfShard[shard + 1] > 0 ? 1 : 0;
            firstOfShard[shard + 1] += firstOfShard[shard];
        }
        var byShard = new int[routed];
        var next = (int[])firstOfShard.Clone();
        for (int i = 0; i < _entries.Count; i++)
        {
            if (_entries[i].Work is not null)
            {
                byShard[next[_entries[i].Shard]++] = i;
            }
        }
        // Every shard's call is started before any is awaited, so the shards work at the same time. Each writes only
        // its own entries' slots; the calls' completions carry those writes back to this shard.
        var calls = new ValueTask[shards];
        int call = 0;
        for (int shard = 0; shard < _router.ShardCount; shard++)
        {
            var indices = new ArraySegment<int>(byShard, firstOfShard[shard], firstOfShard[shard + 1] - firstOfShard[shard]);
            if (indices.Count > 0)
            {
#pragma warning disable CA2012 // awaited once each below
                calls[call++] = Smp.SubmitTo(shard, () => RunOnShardAsync(indices));
#pragma warning restore CA2012
            }
        }
        foreach (var pending in calls)
        {
            await pending;
        }
        return outcomes;
    }

    private async ValueTask RunOnShardAsync(ArraySegment<int> indices)
    {
        var outcomes = _outcomes!;
        var started = new ValueTask<TOutcome>[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            var entry = _entries[indices[i]];
            if (!_router.TryGetLocal(entry.Topic!, entry.Index, out var partition))
            {
                started[i] = new ValueTask<TOutcome>(_failed(KafkaErrors.UnknownTopicOrPartition, null));
                continue;
            }
            if (!partition.IsLeader)
            {
                started[i] = new ValueTask<TOutcome>(_failed(KafkaErrors.NotLeaderOrFollower, $"{partition} is a follower here, or its leadership is moving"));
                continue;
            }
            try
            {
#pragma warning disable CA2012 // awaited once each below
                started[i] = entry.Work!(partition);
#pragma warning restore CA2012
            }
            catch (Exception e)
            {
                var (code, message) = PartitionErrors.Map(e);
                started[i] = new ValueTask<TOutcome>(_failed(code, message));
            }
        }
        for (int i = 0; i < indices.Count; i++)
        {
            try
            {
                outcomes[indices[i]] = await started[i];
            }
            catch (Exception e)
            {
                // Every started work is awaited whatever happened to the others: none is left running unobserved.
                var (code, message) = PartitionErrors.Map(e);
                outcomes[indices[i]] = _failed(code, message);
            }
        }
    }

    private static void Invariant(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"fan-out invariant violated: {what}");
        }
    }

    private readonly record struct Entry(string? Topic, int Index, int Shard, Func<Partition, ValueTask<TOutcome>>? Work, short Error, string? Message);
}
