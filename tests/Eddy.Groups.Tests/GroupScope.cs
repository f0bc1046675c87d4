using Eddy.Cluster;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Groups.Tests;

/// <summary>
/// One shard on a manual clock (a <see cref="StorageScope"/>), a coordinator for every `__consumer_offsets` partition
/// (their logs in its scratch directory), and helpers to call it from the test thread. Time moves only through
/// <see cref="AdvanceAsync"/>.
/// </summary>
public sealed class GroupScope : IAsyncDisposable
{
    public static readonly LogOptions OffsetsLogOptions = new()
    {
        SegmentBytes = 1 << 20,
        PreallocateBytes = 1 << 20,
        CleanupPolicy = CleanupPolicy.Compact,
        RetentionTime = null,
    };

    private readonly List<Partition> _partitions = [];
    private readonly StorageScope _storage;

    public GroupScope(GroupCoordinatorOptions? options = null)
    {
        _storage = new StorageScope(clock: Clock);
        Options = options ?? new GroupCoordinatorOptions
        {
            OffsetsPartitionCount = 4,
            MinSessionTimeout = TimeSpan.FromSeconds(1),
        };
    }

    public ManualClock Clock { get; } = new();
    public ShardGroup Group => _storage.Group;
    public string Root => _storage.Root;
    public GroupCoordinatorOptions Options { get; }
    public GroupCoordinator Coordinator { get; private set; } = null!;

    public IReadOnlyList<Partition> Partitions => _partitions;

    public static async Task<GroupScope> StartAsync(GroupCoordinatorOptions? options = null)
    {
        var scope = new GroupScope(options);
        await scope.OpenAsync();
        return scope;
    }

    /// <summary>A fresh coordinator over the partitions, opened (and their logs replayed) again.</summary>
    public async Task OpenAsync()
    {
        Coordinator = new GroupCoordinator(Group[0], Options);
        var topic = new TopicInfo(GroupPlacement.OffsetsTopic, Guid.NewGuid(), Options.OffsetsPartitionCount, 1, new Dictionary<string, string>(), 0, IsInternal: true);
        await Run(async () =>
        {
            for (int p = 0; p < Options.OffsetsPartitionCount; p++)
            {
                var partition = await Partition.OpenAsync(topic, p, Path.Combine(Root, "kafka", GroupPlacement.OffsetsTopic, $"{p}_0"), OffsetsLogOptions, 0, leaderEpoch: 1);
                _partitions.Add(partition);
                await Coordinator.AddPartitionAsync(p, partition);
            }
            return true;
        });
    }

    /// <summary>What a node shutdown does: stop the coordinator, then close the logs.</summary>
    public async Task CloseAsync()
    {
        await Run(async () =>
        {
            await Coordinator.StopAsync();
            foreach (var partition in _partitions)
            {
                await partition.CloseAsync(snapshot: false);
            }
            _partitions.Clear();
            return true;
        });
    }

    public async Task RestartAsync()
    {
        await CloseAsync();
        await OpenAsync();
    }

    public Task<T> Run<T>(Func<ValueTask<T>> work) => Group.InvokeAsync(0, work);

    public Task<T> Run<T>(Func<T> work) => Group.InvokeAsync(0, work);

    /// <summary>
    /// Moves the clock in steps of at most a second and, after each, lets the shard fire what fell due (and run what
    /// that fired): a timer that re-arms itself sees time pass the way it would on a real clock.
    /// </summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        while (by > TimeSpan.Zero)
        {
            // Requests posted before this call run first, at the time they were sent (the shard's queue is FIFO).
            await Run(() => true);
            var step = by < TimeSpan.FromSeconds(1) ? by : TimeSpan.FromSeconds(1);
            Clock.Advance(step);
            by -= step;
            for (int i = 0; i < 3; i++)
            {
                await Run(() => true);
            }
        }
    }

    public Task<JoinGroupResponse> JoinAsync(string groupId, string memberId = "", string? instanceId = null, short version = 5,
        int sessionMs = 10_000, int rebalanceMs = 30_000, string protocolType = "consumer", params (string Name, byte[] Metadata)[] protocols)
    {
        var request = new JoinGroupRequest
        {
            GroupId = groupId,
            MemberId = memberId,
            GroupInstanceId = instanceId,
            SessionTimeoutMs = sessionMs,
            RebalanceTimeoutMs = rebalanceMs,
            ProtocolType = protocolType,
            Protocols = (protocols.Length == 0 ? [("range", Subscription("t1"))] : protocols)
                .Select(p => new JoinGroupRequest.JoinGroupRequestProtocol { Name = p.Name, Metadata = p.Metadata }).ToList(),
        };
        return Run(() => Coordinator.JoinAsync(request, version, "client-" + (instanceId ?? "dyn"), "/127.0.0.1"));
    }

    /// <summary>Joins as a new dynamic member the v4+ way: MEMBER_ID_REQUIRED first, then again with the id.</summary>
    public async Task<Task<JoinGroupResponse>> JoinNewAsync(string groupId, short version = 5, int sessionMs = 10_000, int rebalanceMs = 30_000)
    {
        var first = await JoinAsync(groupId, version: version, sessionMs: sessionMs, rebalanceMs: rebalanceMs);
        Assert.Equal(79, first.ErrorCode);
        Assert.NotEmpty(first.MemberId);
        return JoinAsync(groupId, first.MemberId, version: version, sessionMs: sessionMs, rebalanceMs: rebalanceMs);
    }

    public Task<SyncOutcome> SyncAsync(string groupId, int generation, string memberId, string? instanceId = null,
        params (string MemberId, byte[] Assignment)[] assignments)
        => Run(() => Coordinator.SyncAsync(groupId, generation, memberId, instanceId, null, null, assignments));

    public Task<short> HeartbeatAsync(string groupId, int generation, string memberId, string? instanceId = null)
        => Run(() => Coordinator.Heartbeat(groupId, generation, memberId, instanceId));

    public Task<short[]> CommitAsync(string groupId, int generation, string memberId, params OffsetCommitEntry[] offsets)
        => Run(() => Coordinator.CommitAsync(groupId, generation, memberId, null, offsets));

    public Task<DescribeGroupsResponse.DescribedGroup> DescribeAsync(string groupId) => Run(() => Coordinator.Describe(groupId));

    /// <summary>A consumer-protocol subscription (version 0) to <paramref name="topics"/>.</summary>
    public static byte[] Subscription(params string[] topics)
    {
        using var w = new KafkaWriter();
        w.WriteInt16(0);
        new ConsumerProtocolSubscription { Topics = [.. topics], UserData = null }.Write(w, 0);
        return w.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (_partitions.Count > 0)
        {
            await CloseAsync();
        }
        _storage.Dispose();
    }
}

public static class Entries
{
    /// <summary>One partition of an OffsetCommit.</summary>
    public static OffsetCommitEntry E(string topic, int partition, long offset, int leaderEpoch = -1, string? metadata = null)
        => new(topic, partition, offset, leaderEpoch, metadata);
}

public static class TaskTimeouts
{
    /// <summary>Waits for a response that must already be on its way (no clock movement needed).</summary>
    public static Task<T> Soon<T>(this Task<T> task) => task.WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>True when the task is still waiting after a short real-time pause: a request the coordinator holds.</summary>
    public static async Task<bool> StillWaiting<T>(this Task<T> task)
    {
        await Task.WhenAny(task, Task.Delay(100));
        return !task.IsCompleted;
    }
}
