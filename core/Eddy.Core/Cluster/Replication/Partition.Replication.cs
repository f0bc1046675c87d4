using Eddy.Cluster.Producers;
using Eddy.Observability;
using Eddy.Raft;
using Eddy.Raft.Driver;

namespace Eddy.Cluster;

// A replicated partition: its Raft replica, its leadership, and the idempotent producers' state its leader rebuilds.
public sealed partial class Partition
{
    private PartitionRaft? _raft;
    private RaftStateStore? _raftStates;
    // Replicated: the producer table matches the log. Only a leader keeps it so (followers write batches without it),
    // so it is rebuilt from the log each time this replica starts leading, before it takes an append.
    private bool _producersCurrent;
    private bool _rebuilding;
    private bool _ledLastRound;
    private long _highWatermarkSeen;
    private TimeSpan _maxLag;
    private Action<Partition>? _leadershipChanged;

    /// <summary>The partition's Raft replica; null when it has one replica.</summary>
    internal PartitionRaft? Raft => _raft;

    public bool IsReplicated => _raft is not null;

    /// <summary>Whether this replica serves clients: always with one replica; replicated, while it leads its group and
    /// has rebuilt the producers' state (until then clients get NOT_LEADER_OR_FOLLOWER and come back).</summary>
    public bool IsLeader => _raft is null || (_raft.Role == Role.Leader && _producersCurrent && _raft.Failure is null);

    /// <summary>The replicas in sync with this leader, sorted (Kafka's isr, reported to the controller); this node alone
    /// with one replica; none on a follower.</summary>
    internal int[] InSyncReplicas() => _raft?.InSyncReplicas(_log.Shard.Clock.NowNanos, _maxLag) ?? [];

    /// <summary>How many replicas are in sync (min.insync.replicas): 1 with one replica, 0 on a follower.</summary>
    public int InSyncCount => _raft?.InSyncCount(_log.Shard.Clock.NowNanos, _maxLag) ?? 1;

    private async ValueTask JoinGroupAsync(ReplicaSetup setup)
    {
        _raftStates = await RaftStateStore.OpenAsync(Path.Combine(_log.Directory, "raft"));
        try
        {
            _raft = await PartitionRaft.OpenAsync(setup.Group, setup.Options, setup.Voters, _log, _raftStates, setup.Send);
        }
        catch
        {
            await _raftStates.DisposeAsync();
            throw;
        }
        _highWatermarkSeen = _raft.HighWatermark;
        _maxLag = setup.MaxLag;
        _leadershipChanged = setup.LeadershipChanged;
        _raft.Advanced = OnRaftAdvanced;
        _raft.Truncating = offset => ProducerSnapshot.DeleteAboveAsync(_log.Directory, offset);
    }

    /// <summary>After each Raft round: fetches hear of a new high watermark, and a replica that has just started leading
    /// rebuilds the producers' state once everything its log holds is on disk.</summary>
    private void OnRaftAdvanced()
    {
        var raft = _raft!;
        if (raft.HighWatermark != _highWatermarkSeen)
        {
            _highWatermarkSeen = raft.HighWatermark;
            WakeWaiters();
        }
        if (raft.Role != Role.Leader)
        {
            _producersCurrent = false;
        }
        else if (!_producersCurrent && !_rebuilding && !IsClosed && _log.LogEndOffset == raft.LogEndOffset)
        {
            _rebuilding = true;
            _ = RebuildProducersAsync(raft.Term);
        }
        if (IsLeader != _ledLastRound)
        {
            _ledLastRound = IsLeader;
            ReplicationStats.Here.LeadershipChanged(IsLeader);
            _leadershipChanged?.Invoke(this);
        }
    }

    private async Task RebuildProducersAsync(long term)
    {
        try
        {
            var loaded = await ProducerStateLoader.LoadAsync(_log, _log.Options.WallClockMs());
            if (!IsClosed && _raft!.Role == Role.Leader && _raft.Term == term)
            {
                _producers = new ProducerAppender(_log, loaded.Table);
                _producersCurrent = true;
                OnRaftAdvanced(); // serving from now on: the controller hears of it
                Log.Info(Subsystem, $"{this}: leads in epoch {term} from offset {_log.LogEndOffset}, high watermark {_raft.HighWatermark}; " +
                    $"{loaded.Table.Count} producers restored");
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (!IsClosed)
            {
                Log.Error(Subsystem, $"{this}: rebuilding the producers' state as the new leader failed: {e.Message}");
            }
        }
        finally
        {
            // Left not current, the next round (a tick at the latest) tries again.
            _rebuilding = false;
        }
    }
}
