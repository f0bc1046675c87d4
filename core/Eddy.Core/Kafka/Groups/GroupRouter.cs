using Eddy.Runtime;

namespace Eddy.Kafka.Groups;

/// <summary>
/// Finds a group's coordinator: the group's `__consumer_offsets` partition (<see cref="GroupPlacement"/>), the
/// shard that partition's log lives on (the integrator's mapping), and that shard's <see cref="GroupCoordinator"/>.
/// Handlers run on the connection's shard and hop to the owner with <see cref="Smp.SubmitTo{T}(int, Func{ValueTask{T}})"/>.
/// One router per node; one coordinator per shard.
/// </summary>
public sealed class GroupRouter
{
    private readonly ShardGroup _shards;
    private readonly Func<int, int> _shardForPartition;
    private readonly GroupCoordinator[] _coordinators;

    /// <param name="shards">The node's shards: each gets a coordinator.</param>
    /// <param name="shardForPartition">Which shard holds the log of a `__consumer_offsets` partition. Called from
    /// any shard, so it must be safe for concurrent reads.</param>
    /// <param name="options">Shared by every coordinator.</param>
    public GroupRouter(ShardGroup shards, Func<int, int> shardForPartition, GroupCoordinatorOptions? options = null)
    {
        _shards = shards;
        _shardForPartition = shardForPartition;
        Options = options ?? new GroupCoordinatorOptions();
        _coordinators = new GroupCoordinator[shards.Count];
        for (int i = 0; i < _coordinators.Length; i++)
        {
            _coordinators[i] = new GroupCoordinator(shards[i], Options);
        }
    }

    public GroupCoordinatorOptions Options { get; }

    public int ShardCount => _coordinators.Length;

    /// <summary>The coordinator of shard <paramref name="shard"/>; call its members on that shard only.</summary>
    public GroupCoordinator CoordinatorOn(int shard) => _coordinators[shard];

    public int PartitionFor(string groupId) => GroupPlacement.PartitionFor(groupId, Options.OffsetsPartitionCount);

    public int ShardForPartition(int partition)
    {
        int shard = _shardForPartition(partition);
        if ((uint)shard >= (uint)_coordinators.Length)
        {
            throw new InvalidOperationException($"{GroupPlacement.OffsetsTopic} partition {partition} maps to shard {shard}, outside 0..{_coordinators.Length - 1}");
        }
        return shard;
    }

    public int ShardFor(string groupId) => ShardForPartition(PartitionFor(groupId));

    /// <summary>Runs <paramref name="work"/> on the coordinator that owns <paramref name="groupId"/>. From shard code.</summary>
    public ValueTask<T> OnOwnerAsync<T>(string groupId, Func<GroupCoordinator, ValueTask<T>> work)
    {
        int shard = ShardFor(groupId);
        var coordinator = _coordinators[shard];
        return Smp.SubmitTo(shard, () => work(coordinator));
    }

    /// <summary>Runs <paramref name="work"/> on the coordinator that owns <paramref name="groupId"/>. From shard code.</summary>
    public ValueTask<T> OnOwnerAsync<T>(string groupId, Func<GroupCoordinator, T> work)
    {
        int shard = ShardFor(groupId);
        var coordinator = _coordinators[shard];
        return Smp.SubmitTo(shard, () => work(coordinator));
    }

    /// <summary>Runs <paramref name="work"/> on shard <paramref name="shard"/>'s coordinator. From shard code.</summary>
    public ValueTask<T> OnShardAsync<T>(int shard, Func<GroupCoordinator, T> work)
    {
        var coordinator = _coordinators[shard];
        return Smp.SubmitTo(shard, () => work(coordinator));
    }

    /// <summary>
    /// From outside the shards (node shutdown, before the Kafka server waits for its connections): every coordinator
    /// answers its waiting JoinGroup/SyncGroup requests with NOT_COORDINATOR, stops its timers and waits for its
    /// appends; the integrator may close the `__consumer_offsets` logs afterwards.
    /// </summary>
    public async Task StopAsync()
    {
        for (int i = 0; i < _coordinators.Length; i++)
        {
            var coordinator = _coordinators[i];
            await _shards.InvokeAsync(i, () => coordinator.StopAsync());
        }
    }
}
