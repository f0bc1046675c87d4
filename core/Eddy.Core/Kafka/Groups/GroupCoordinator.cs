using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Observability;
using Eddy.Raft;
using Eddy.Raft.Driver;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Kafka.Groups;

/// <summary>
/// The classic group coordinator of one shard: the groups stored in the `__consumer_offsets` partitions whose logs
/// live on this shard, their membership state machine (join, sync, heartbeat, leave, session and rebalance timers),
/// and their committed offsets. Every member runs on the owning shard; handlers reach it through
/// <see cref="GroupRouter"/>. State changes are appended to the partition's log before they are answered, and
/// <see cref="AddPartitionAsync"/> rebuilds everything from that log after a restart.
/// </summary>
public sealed partial class GroupCoordinator
{
    private const string Subsystem = "groups";

    private readonly Shard _shard;
    private readonly Dictionary<int, OffsetsPartition> _partitions = [];
    private readonly Dictionary<string, ClassicGroup> _groups = new(StringComparer.Ordinal);
    private bool _stopped;

    public GroupCoordinator(Shard shard, GroupCoordinatorOptions? options = null)
    {
        _shard = shard;
        Options = options ?? new GroupCoordinatorOptions();
    }

    public GroupCoordinatorOptions Options { get; }

    public int ShardId => _shard.Id;

    /// <summary>
    /// Takes over `__consumer_offsets` partition <paramref name="partition"/>, which the caller opened on this shard as
    /// <paramref name="opened"/>: replays its log to rebuild its groups and offsets, then serves them. Requests for its
    /// groups meanwhile get COORDINATOR_LOAD_IN_PROGRESS. The caller keeps owning the partition and closes it after
    /// <see cref="RemovePartitionAsync"/>.
    /// </summary>
    public async ValueTask AddPartitionAsync(int partition, Partition opened)
    {
        _shard.AssertCurrent();
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(partition, Options.OffsetsPartitionCount);
        if (_partitions.ContainsKey(partition))
        {
            throw new InvalidOperationException($"{GroupPlacement.OffsetsTopic} partition {partition} is already loaded on shard {_shard.Id}");
        }
        var owned = new OffsetsPartition(partition, opened);
        _partitions[partition] = owned;
        var loader = new GroupLoader(partition);
        try
        {
            await owned.ReplayAsync(loader.Visit);
        }
        catch
        {
            _partitions.Remove(partition);
            throw;
        }
        if (_partitions.GetValueOrDefault(partition) != owned)
        {
            return; // removed while it loaded
        }
        foreach (var group in loader.Build())
        {
            _groups[group.GroupId] = group;
            foreach (var member in group.Members)
            {
                ScheduleSession(group, member);
            }
        }
        owned.Loaded = true;
        // An empty partition (all of them at a first start) says so at debug level only: a normal start prints a
        // handful of lines, not one per offsets partition.
        Log.Write(loader.GroupCount + loader.OffsetCount > 0 ? LogLevel.Info : LogLevel.Debug, Subsystem,
            $"loaded {GroupPlacement.OffsetsTopic}-{partition}: {loader.GroupCount} groups, {loader.OffsetCount} committed offsets");
    }

    /// <summary>
    /// Gives up a partition: its groups' waiting JoinGroup and SyncGroup requests are answered NOT_COORDINATOR, their
    /// timers stop, and this completes once no append to its log is in flight (the caller may then close the log).
    /// </summary>
    public async ValueTask RemovePartitionAsync(int partition)
    {
        _shard.AssertCurrent();
        if (!_partitions.Remove(partition, out var owned))
        {
            return;
        }
        foreach (var group in _groups.Values.Where(g => g.Partition == partition).ToList())
        {
            Unload(group);
        }
        await owned.DrainAsync();
    }

    /// <summary>Stops serving (every later request gets NOT_COORDINATOR) and gives up every partition.</summary>
    public async ValueTask StopAsync()
    {
        _shard.AssertCurrent();
        _stopped = true;
        foreach (int partition in _partitions.Keys.ToList())
        {
            await RemovePartitionAsync(partition);
        }
    }

    /// <summary>Whether this coordinator holds the partition (loaded or loading): FindCoordinator names this node then.</summary>
    public bool HoldsPartition(int partition)
    {
        _shard.AssertCurrent();
        return !_stopped && _partitions.ContainsKey(partition);
    }

    public int PartitionFor(string groupId) => GroupPlacement.PartitionFor(groupId, Options.OffsetsPartitionCount);

    /// <summary>NONE when this coordinator serves the group's partition now; otherwise the error to answer with.</summary>
    private short CheckServing(string groupId)
    {
        _shard.AssertCurrent();
        if (_stopped || !_partitions.TryGetValue(PartitionFor(groupId), out var partition))
        {
            return KafkaErrors.NotCoordinator;
        }
        return partition.Loaded ? KafkaErrors.None : KafkaErrors.CoordinatorLoadInProgress;
    }

    private ClassicGroup? FindGroup(string groupId) => _groups.GetValueOrDefault(groupId);

    /// <summary>Whether <paramref name="group"/> is still the live group under its id (timers and appends outlive groups).</summary>
    private bool IsLive(ClassicGroup group) => !_stopped && _groups.GetValueOrDefault(group.GroupId) == group;

    private long NowNanos => _shard.Clock.NowNanos;

    private void Transition(ClassicGroup group, GroupState state)
    {
        group.State = state;
        group.CurrentStateTimestamp = Options.WallClockMs();
    }

    private void Unload(ClassicGroup group)
    {
        _groups.Remove(group.GroupId);
        group.JoinTimer.Cancel();
        foreach (var pending in group.PendingMembers.Values)
        {
            pending.Cancel();
        }
        foreach (var member in group.Members)
        {
            member.SessionTimer.Cancel();
            member.CompleteJoin(JoinError(member.MemberId, KafkaErrors.NotCoordinator));
            member.CompleteSync(new SyncOutcome(KafkaErrors.NotCoordinator, []));
        }
    }

    /// <summary>Appends <paramref name="records"/> to the group's partition: NONE once stored, else the error to answer.</summary>
    private async ValueTask<short> StoreAsync(int partition, IReadOnlyList<(byte[] Key, byte[]? Value)> records)
    {
        if (!_partitions.TryGetValue(partition, out var owned))
        {
            return KafkaErrors.NotCoordinator;
        }
        try
        {
            return await owned.AppendAsync(records, Options.WallClockMs());
        }
        catch (DiskFullException)
        {
            return KafkaErrors.CoordinatorNotAvailable; // retriable: the next commit may find space
        }
        catch (ProposalRefusedException e) when (e.Result == ProposeResult.Overloaded)
        {
            return KafkaErrors.CoordinatorNotAvailable; // the followers are far behind: retriable as it is
        }
        catch (Exception e) when (e is ProposalRefusedException or ProposalLostException)
        {
            return KafkaErrors.NotCoordinator; // the partition's leadership moved while the change was on its way
        }
        catch (Exception e) when (e is LogFailedException or LogClosedException)
        {
            // Kafka answers storage failures with NOT_COORDINATOR: the client looks for the coordinator again.
            Log.Warn(Subsystem, $"{GroupPlacement.OffsetsTopic}-{partition}: append failed: {e.Message}");
            return KafkaErrors.NotCoordinator;
        }
        catch (Exception e)
        {
            // A batch the log refuses (say, a group too large for one batch): this change fails, the coordinator goes on.
            Log.Error(Subsystem, $"{GroupPlacement.OffsetsTopic}-{partition}: append failed: {e}");
            return KafkaErrors.UnknownServerError;
        }
    }

    private ValueTask<short> StoreGroupAsync(ClassicGroup group, Dictionary<string, byte[]>? assignments = null)
    {
        (byte[] Key, byte[]? Value) record;
        try
        {
            record = (OffsetsRecords.GroupKey(group.GroupId), OffsetsRecords.GroupValue(group.Snapshot(assignments)));
        }
        catch (Exception e)
        {
            // A field the record layout cannot hold (a string past 32,767 bytes): fails like a refused append, so the
            // members waiting in SyncGroup are answered and the group rebalances instead of waiting forever.
            Log.Error(Subsystem, $"group {group.GroupId}: generation {group.GenerationId} cannot be stored: {e.Message}");
            return new ValueTask<short>(KafkaErrors.UnknownServerError);
        }
        return StoreAsync(group.Partition, [record]);
    }

    /// <summary>Stores the group where nobody waits for the answer (it became empty); a failure is logged.</summary>
    private async Task StoreGroupInBackgroundAsync(ClassicGroup group)
    {
        try
        {
            short error = await StoreGroupAsync(group);
            if (error != KafkaErrors.None)
            {
                Log.Warn(Subsystem, $"group {group.GroupId}: storing generation {group.GenerationId} failed with error {error}");
            }
        }
        catch (Exception e)
        {
            Log.Error(Subsystem, $"group {group.GroupId}: storing generation {group.GenerationId} failed: {e}");
        }
    }
}
