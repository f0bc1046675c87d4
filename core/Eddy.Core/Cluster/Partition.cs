using System.Runtime.CompilerServices;
using Eddy.Cluster.Producers;
using Eddy.Errors;
using Eddy.Observability;
using Eddy.Raft;
using Eddy.Raft.Driver;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// One partition on its owning shard, and the only door into its log: every append (clients' and the group
/// coordinator's), read, start-offset move, housekeeping pass and close goes through here. It holds the leader epoch,
/// the high watermark readers may see up to, and the fetches waiting for it to move. A partition with one replica
/// commits an offset once it is durable, so its high watermark is the log's durable offset. A replicated one is a
/// replica of its Raft group (<see cref="PartitionRaft"/>, docs/replication.md): appends are proposed to the group and
/// complete once a majority has them on disk, the high watermark is the commit index, the leader epoch is the term, and
/// only the group's leader serves clients. Every member is called on the owning shard.
/// </summary>
public sealed partial class Partition
{
    private const string Subsystem = "cluster";

    /// <summary>Idempotent batches after which housekeeping writes a producer snapshot, bounding the replay after a crash.</summary>
    private const long SnapshotEveryBatches = 10_000;

    private readonly List<IAppendWaiter> _waiters = [];
    private readonly PartitionLog _log;
    private readonly IStartOffsetStore? _starts;
    private ProducerAppender _producers;
    private int _leaderEpoch;

    private Partition(TopicInfo topic, int index, PartitionLog log, ProducerStateTable producers, int leaderEpoch, IStartOffsetStore? starts)
    {
        Topic = topic;
        Index = index;
        _log = log;
        _producers = new ProducerAppender(log, producers);
        _starts = starts;
        _leaderEpoch = leaderEpoch;
    }

    /// <summary>Opens (recovering) the log in <paramref name="directory"/> and the producers' state, and makes this
    /// node the partition's leader in <paramref name="leaderEpoch"/>, or in the log's last epoch should the log carry a
    /// later one (never below it: see <see cref="BecomeLeader"/>). <paramref name="starts"/> records start-offset moves durably before the log drops
    /// anything; without it (tests) DeleteRecords moves only the log.</summary>
    /// With <paramref name="replica"/>, it is instead a replica of the partition's Raft group.</summary>
    public static async ValueTask<Partition> OpenAsync(TopicInfo topic, int index, string directory, LogOptions options, long startOffset,
        int leaderEpoch, IStartOffsetStore? starts = null, ReplicaSetup? replica = null)
    {
        var log = await PartitionLog.OpenAsync(directory, options, startOffset);
        try
        {
            var producers = await ProducerStateLoader.LoadAsync(log, options.WallClockMs());
            var partition = new Partition(topic, index, log, producers.Table, Math.Max(leaderEpoch, LeaderEpochHistory.LastEpochOf(log)), starts);
            if (replica is not null)
            {
                await partition.JoinGroupAsync(replica);
            }
            return partition;
        }
        catch
        {
            await log.DisposeAsync();
            throw;
        }
    }

    /// <summary>The topic as it was when this partition was opened or last reconfigured.</summary>
    public TopicInfo Topic { get; private set; }

    public int Index { get; }

    /// <summary>Kafka's leader epoch: raised each time this node becomes the partition's leader (with one replica, at
    /// every start of the node; replicated, the Raft term), stamped on every batch appended, fenced against clients'
    /// current_leader_epoch.</summary>
    public int LeaderEpoch => _raft is null ? _leaderEpoch : checked((int)_raft.Term);

    /// <summary>Leads from now on in <paramref name="epoch"/>, which may not go back: a batch of a lower epoch after a
    /// higher one would break the epoch history (and Raft's log matching). A replicated partition's epoch is its term,
    /// which only its group moves.</summary>
    internal void BecomeLeader(int epoch)
    {
        if (epoch < _leaderEpoch)
        {
            throw new InvalidOperationException($"{this}: leader epoch {epoch} is below the current {_leaderEpoch}");
        }
        _leaderEpoch = epoch;
    }

    /// <summary>Offsets below this are acknowledged and visible to consumers.</summary>
    public long HighWatermark => _raft?.HighWatermark ?? _log.DurableOffset;

    public long LogStartOffset => _raft?.LogStartOffset ?? _log.StartOffset;

    public long LogEndOffset => _log.LogEndOffset;

    public long SizeBytes => _log.SizeBytes;

    /// <summary>The log's settings from the topic's configs (cleanup policy, retention, segment size, ...).</summary>
    public LogOptions LogOptions => _log.Options;

    /// <summary>The idempotent producers' state (DescribeProducers, tests).</summary>
    public ProducerStateTable Producers => _producers.Table;

    /// <summary>Set when the topic is deleted or the node stops: requests that still hold it get an error.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Kafka's check of the epoch a client believes current: -1 skips it, an older one is fenced
    /// (FENCED_LEADER_EPOCH), a newer one is not known here yet (UNKNOWN_LEADER_EPOCH).</summary>
    public short CheckLeaderEpoch(int currentLeaderEpoch)
        => currentLeaderEpoch == -1 || currentLeaderEpoch == LeaderEpoch ? KafkaErrors.None
            : currentLeaderEpoch < LeaderEpoch ? KafkaErrors.FencedLeaderEpoch
            : KafkaErrors.UnknownLeaderEpoch;

    /// <summary>Appends one batch already validated by the caller, stamped with the leader epoch and through the
    /// idempotent producer's checks (a retried batch gets its original offset, nothing appended); completes once
    /// durable (the log's group commit) and wakes waiting fetches. A replicated partition completes once its group
    /// committed the batch, or with <paramref name="untilCommitted"/> false (acks=1) once it is on the leader's disk.
    /// Throws <see cref="StorageException"/>s, and the Raft driver's proposal exceptions.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ProducerAppendResult> AppendAsync(ReadOnlyMemory<byte> batch, bool untilCommitted = true)
    {
        if (_raft is not null)
        {
            // Waiting fetches are woken when the commit moves (OnRaftAdvanced), not here.
            var proposed = IsLeader
                ? await _producers.ProposeAsync(batch, _raft, untilCommitted).ConfigureAwait(false)
                : ProducerAppendResult.Failed(KafkaErrors.NotLeaderOrFollower);
            CountAppended(proposed, batch.Length);
            return proposed;
        }
        // A pooled method completed on this shard: resume inline (docs/runtime.md, "Awaiting on a shard").
        var result = await _producers.AppendAsync(batch, LeaderEpoch).ConfigureAwait(false);
        if (result.ErrorCode == KafkaErrors.None && !result.Duplicate)
        {
            WakeWaiters();
        }
        CountAppended(result, batch.Length);
        return result;
    }

    /// <summary>Bytes of batches appended through <see cref="AppendAsync"/> (clients' produce, the group coordinator's
    /// writes) since the partition opened on this shard, for the metrics.</summary>
    public long BytesIn { get; private set; }

    /// <summary>Bytes of batches handed to consumers (<see cref="CountFetched"/>) since the partition opened here.</summary>
    public long BytesOut { get; private set; }

    /// <summary>A fetch hands <paramref name="bytes"/> of this partition's batches to a client.</summary>
    public void CountFetched(int bytes) => BytesOut += bytes;

    private void CountAppended(in ProducerAppendResult result, int bytes)
    {
        if (result.ErrorCode == KafkaErrors.None && !result.Duplicate)
        {
            BytesIn += bytes;
        }
    }

    /// <summary>Whole batches from the one holding <paramref name="offset"/>, up to <paramref name="maxBytes"/> (at least
    /// one batch), as far as the log end: callers serving consumers stop at the high watermark. Dispose the result.</summary>
    public ValueTask<LogRead> ReadAsync(long offset, int maxBytes) => _log.ReadAsync(offset, maxBytes);

    /// <summary>The first batch whose max timestamp reaches <paramref name="timestamp"/>, or -1.</summary>
    public ValueTask<long> FindOffsetByTimestampAsync(long timestamp) => _log.FindOffsetByTimestampAsync(timestamp);

    /// <summary>Where a leader epoch ends, as Kafka's leader-epoch cache answers OffsetForLeaderEpoch.</summary>
    public (int Epoch, long EndOffset) EndOffsetForEpoch(int epoch)
        => LeaderEpochHistory.EndOffsetFor(LeaderEpochHistory.Of(_log, LeaderEpoch), epoch, _log.LogEndOffset);

    /// <summary>The epoch of the batch holding <paramref name="offset"/> (the current epoch at the log end), or -1.</summary>
    public int EpochOf(long offset) => LeaderEpochHistory.EpochOf(LeaderEpochHistory.Of(_log, LeaderEpoch), offset);

    /// <summary>DeleteRecords: moves the log start offset forward to <paramref name="offset"/> (already checked against
    /// the high watermark), recorded durably first: once the log drops segments, only that record knows where the log
    /// starts. Never moves it back. A replicated partition's leader moves every replica's start through its Raft group
    /// (a log start marker, applied by each replica once committed: <see cref="PartitionRaft.MoveLogStartAsync"/>).</summary>
    public async ValueTask MoveStartOffsetAsync(long offset)
    {
        if (_raft is not null)
        {
            await _raft.MoveLogStartAsync(offset);
            return;
        }
        if (offset <= _log.StartOffset)
        {
            return;
        }
        if (_starts is not null)
        {
            await _starts.RecordStartOffsetAsync(Topic, Index, offset);
        }
        await _log.SetStartOffsetAsync(offset);
    }

    /// <summary>Registers a fetch to hear of the next append, dropping waiters that have given up.</summary>
    public void AddWaiter(IAppendWaiter waiter)
    {
        _waiters.RemoveAll(static w => w.IsDone);
        _waiters.Add(waiter);
    }

    /// <summary>Tells every waiter the partition moved (also used when it closes, so no fetch waits on a dead log).</summary>
    public void WakeWaiters()
    {
        if (_waiters.Count == 0)
        {
            return;
        }
        foreach (var waiter in _waiters)
        {
            waiter.OnAppend();
        }
        _waiters.Clear();
    }

    /// <summary>New configs for the topic: the log takes the settings made from them.</summary>
    internal void Reconfigure(TopicInfo topic, LogOptions options)
    {
        Topic = topic;
        _log.Reconfigure(options);
    }

    /// <summary>Closes the active segment and starts the next (compaction rewrites closed segments only).</summary>
    internal ValueTask RollAsync() => _log.RollAsync();

    /// <summary>Retention, compaction, producer expiry and the periodic producer snapshot.</summary>
    internal async ValueTask HousekeepAsync()
    {
        if (_raft is not null)
        {
            // Each replica applies retention and compaction to its own settled log, as Kafka's replicas do: retention
            // as a Raft compaction, compaction leaving gaps that a leader sends its followers as empty batches. Only
            // the leader's producer table follows its log, so only it writes snapshots.
            if ((_log.Options.CleanupPolicy & CleanupPolicy.Delete) != 0)
            {
                long before = _log.StartOffset;
                long start = await _raft.ApplyRetentionAsync();
                if (start != before)
                {
                    Log.Info(Subsystem, $"{this}: retention moved the log start from {before} to {start}");
                }
            }
            if ((_log.Options.CleanupPolicy & CleanupPolicy.Compact) != 0)
            {
                await Compactor.CompactAsync(_log, _raft.SettledEnd);
            }
            if (_producersCurrent && _producers.Table.BatchesSinceSnapshot >= SnapshotEveryBatches)
            {
                await _producers.SnapshotAsync();
            }
            return;
        }
        if ((_log.Options.CleanupPolicy & CleanupPolicy.Delete) != 0)
        {
            int deleted = await _log.ApplyRetentionAsync();
            if (deleted > 0)
            {
                Log.Info(Subsystem, $"{this}: retention deleted {deleted} segments; log starts at {_log.StartOffset}");
            }
        }
        if ((_log.Options.CleanupPolicy & CleanupPolicy.Compact) != 0)
        {
            await Compactor.CompactAsync(_log);
        }
        _producers.Table.RemoveExpired(_log.Options.WallClockMs());
        if (_producers.Table.BatchesSinceSnapshot >= SnapshotEveryBatches)
        {
            await _producers.SnapshotAsync();
        }
    }

    /// <summary>Closes the log after waking every waiter; with <paramref name="snapshot"/>, first writes a producer
    /// snapshot at the log end, which spares the next start a replay. Returns the log's directory. Never throws: a
    /// failed close is logged.</summary>
    internal async ValueTask<string> CloseAsync(bool snapshot)
    {
        IsClosed = true;
        WakeWaiters();
        try
        {
            if (_raft is not null)
            {
                await _raft.CloseAsync();
            }
            if (snapshot && _log.Failure is null && (_raft is null || _producersCurrent))
            {
                await _producers.SnapshotAsync();
            }
            if (_raftStates is not null)
            {
                await _raftStates.DisposeAsync();
            }
            await _log.DisposeAsync();
        }
        catch (Exception e)
        {
            Log.Error(Subsystem, $"{this}: closing the log failed: {e.Message}");
        }
        return _log.Directory;
    }

    public override string ToString() => $"{Topic.Name}-{Index}";
}
