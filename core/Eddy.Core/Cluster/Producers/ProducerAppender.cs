using System.Runtime.CompilerServices;
using Eddy.Raft.Driver;
using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Cluster.Producers;

/// <summary>What <see cref="ProducerAppender.AppendAsync"/> did with a batch.</summary>
/// <param name="ErrorCode">0, or the Kafka error for this partition (nothing was appended).</param>
/// <param name="BaseOffset">The batch's first offset (the original's for a duplicate); -1 on error.</param>
/// <param name="LastOffset">The batch's last offset: acks=all waits until the log is durable past it.</param>
/// <param name="LogAppendTime">What Kafka puts in the response's log_append_time: for an appended batch the time the
/// log stamped on it on a LogAppendTime topic and -1 otherwise; for a duplicate the original batch's max timestamp
/// (Kafka answers a duplicate so whatever the topic's timestamp type).</param>
/// <param name="Duplicate">True when the batch was a retry of one already in the log and was not appended again.</param>
public readonly record struct ProducerAppendResult(short ErrorCode, long BaseOffset, long LastOffset, long LogAppendTime, bool Duplicate)
{
    public static ProducerAppendResult Failed(short errorCode) => new(errorCode, -1, -1, -1, false);
}

/// <summary>
/// Appends client batches to one partition's log with the idempotent-producer checks, on the partition's shard.
/// Check, write and record run as one step per batch with a producer id (an <see cref="AsyncGate"/> keeps a
/// second batch from being checked while the first is being written, as Kafka's log lock does); the wait for the
/// group commit comes after, outside the gate. Batches without a producer id go straight to the log. Also takes
/// snapshots at a point where no checked batch is in flight. The caller has already validated the batch (CRC, magic,
/// record count, no control bit) and the acks level.
/// </summary>
public sealed class ProducerAppender(PartitionLog log, ProducerStateTable table)
{
    private readonly AsyncGate _gate = new();

    public PartitionLog Log { get; } = log;

    public ProducerStateTable Table { get; } = table;

    /// <summary>
    /// Appends one client batch (Produce v3+ carries exactly one per partition) unless its producer state refuses it
    /// or it is a retry of a batch already appended; completes once it (or a duplicate's original) is durable.
    /// Exceptions from the log pass through: <see cref="DiskFullException"/> with the producer state unchanged;
    /// <see cref="LogFailedException"/> when the write or its fdatasync failed, after which the log takes no more
    /// batches, so a batch recorded but never made durable is never acknowledged. Allocates nothing in steady state.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ProducerAppendResult> AppendAsync(ReadOnlyMemory<byte> batch, int leaderEpoch = -1)
    {
        ProducerAppendResult result;
        if (new RecordBatch(batch.Span).ProducerId < 0)
        {
            int lastOffsetDelta = new RecordBatch(batch.Span).LastOffsetDelta;
            // Log writes are PoolingAsyncValueTaskMethodBuilder methods completed on this shard: resume inline.
            var appended = await Log.WriteAsync(batch, leaderEpoch).ConfigureAwait(false);
            result = new ProducerAppendResult(0, appended.BaseOffset, appended.BaseOffset + lastOffsetDelta, appended.LogAppendTime, false);
        }
        else
        {
            result = await CheckedWriteAsync(batch, leaderEpoch).ConfigureAwait(false);
            if (result.ErrorCode != 0)
            {
                return result;
            }
        }
        // Outside the gate, so that the producer's next batches are checked and written while this one waits for its
        // group commit. A duplicate waits too: its original may still be on its way to the disk.
        if (Log.Options.FlushEveryAppend)
        {
            await Log.WaitDurableAsync(result.LastOffset + 1).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>Check, write and record under the gate, for a batch with a producer id.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ProducerAppendResult> CheckedWriteAsync(ReadOnlyMemory<byte> batch, int leaderEpoch)
    {
        await _gate.EnterAsync();
        try
        {
            var check = Table.Check(new RecordBatch(batch.Span));
            if (check.Outcome == ProducerCheckOutcome.Error)
            {
                return ProducerAppendResult.Failed(check.ErrorCode);
            }
            if (check.Outcome == ProducerCheckOutcome.Duplicate)
            {
                var original = check.Duplicate;
                return new ProducerAppendResult(0, original.BaseOffset, original.LastOffset, original.MaxTimestamp, true);
            }
            var written = await Log.WriteAsync(batch, leaderEpoch).ConfigureAwait(false);
            // Read after the write: the header is a view over the batch, which no await may hold.
            var header = new RecordBatch(batch.Span);
            long maxTimestamp = written.LogAppendTime >= 0 ? written.LogAppendTime : header.MaxTimestamp;
            Table.Record(header.ProducerId, header.ProducerEpoch, header.BaseSequence, header.LastOffsetDelta, written.BaseOffset, maxTimestamp);
            return new ProducerAppendResult(0, written.BaseOffset, written.BaseOffset + header.LastOffsetDelta, written.LogAppendTime, false);
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>
    /// Proposes one client batch to a replicated partition's Raft group, as its leader, with the same checks: a batch
    /// with a producer id is checked and recorded at the offset it is proposed at, under the gate, so the producer's
    /// next batch is checked against it while this one is replicated; a retry of a batch already in the log waits for
    /// that one to be committed. Completes once committed (a majority has it on disk), or without
    /// <paramref name="untilCommitted"/> (acks=1) once it is on the leader's disk. Throws
    /// <see cref="ProposalRefusedException"/> (not the leader, or too much uncommitted) and
    /// <see cref="ProposalLostException"/> (another leader's entries replaced it): the producer sends it again.
    /// </summary>
    public async ValueTask<ProducerAppendResult> ProposeAsync(ReadOnlyMemory<byte> batch, PartitionRaft raft, bool untilCommitted)
    {
        ProducerAppendResult result;
        Task<long> committed;
        await _gate.EnterAsync();
        try
        {
            // Inside the gate, so batches wait for room in the order they came. A plain await: a Task's continuation
            // may be run elsewhere than where it completes, and only the shard's context brings it back.
            await raft.WaitForRoomAsync();
            var header = new RecordBatch(batch.Span);
            var check = header.ProducerId >= 0 ? Table.Check(header) : default; // no producer id: append, unchecked
            if (check.Outcome == ProducerCheckOutcome.Error)
            {
                return ProducerAppendResult.Failed(check.ErrorCode);
            }
            if (check.Outcome == ProducerCheckOutcome.Duplicate)
            {
                var original = check.Duplicate;
                result = new ProducerAppendResult(0, original.BaseOffset, original.LastOffset, original.MaxTimestamp, true);
                // Kafka answers a duplicate at once for acks=1; for acks=all, once its original is committed.
                committed = untilCommitted ? raft.WaitCommittedAsync(original.BaseOffset, original.LastOffset + 1) : Task.FromResult(original.BaseOffset);
            }
            else
            {
                long baseOffset = raft.LogEndOffset;
                long appendTime = Log.Options.TimestampType == TimestampType.LogAppendTime ? Log.Options.WallClockMs() : -1;
                committed = raft.ProposeAsync(batch, untilCommitted, appendTime);
                if (header.ProducerId >= 0 && !committed.IsFaulted)
                {
                    Table.Record(header.ProducerId, header.ProducerEpoch, header.BaseSequence, header.LastOffsetDelta, baseOffset,
                        appendTime >= 0 ? appendTime : header.MaxTimestamp);
                }
                result = new ProducerAppendResult(0, baseOffset, baseOffset + header.LastOffsetDelta, appendTime, false);
            }
        }
        finally
        {
            _gate.Exit();
        }
        await committed.ConfigureAwait(false);
        return result;
    }

    /// <summary>Writes a snapshot of the table at the log end, with no checked batch in flight. Call it at a clean
    /// close, and from time to time (when <see cref="ProducerStateTable.BatchesSinceSnapshot"/> grows) to bound the
    /// replay after a crash.</summary>
    public async ValueTask SnapshotAsync()
    {
        await _gate.EnterAsync();
        try
        {
            await ProducerSnapshot.WriteAsync(Log.Directory, Table, Log.LogEndOffset, Log.Options.Files);
        }
        finally
        {
            _gate.Exit();
        }
    }
}
