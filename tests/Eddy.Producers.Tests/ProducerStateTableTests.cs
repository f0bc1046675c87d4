using Eddy.Cluster.Producers;
using Eddy.Records;

namespace Eddy.Producers.Tests;

/// <summary>
/// The producer state rules, case by case, against what Apache Kafka 3.x/4.x does (ProducerAppendInfo,
/// ProducerStateEntry, UnifiedLog.analyzeAndValidateProducerState).
/// </summary>
public class ProducerStateTableTests
{
    private const long Pid = 1000;
    private const short OutOfOrder = 45, InvalidEpoch = 47, InvalidTxnState = 48, InvalidRecord = 87;

    /// <summary>Checks and, when the answer is Append, records the batch at <paramref name="offset"/>.</summary>
    private static ProducerCheckResult Send(ProducerStateTable table, short epoch, int baseSequence, int records, long offset, long pid = Pid, long timestamp = 1_000)
    {
        var result = table.Check(pid, epoch, baseSequence, records - 1, isTransactional: false);
        if (result.Outcome == ProducerCheckOutcome.Append)
        {
            table.Record(pid, epoch, baseSequence, records - 1, offset, timestamp);
        }
        return result;
    }

    private static void AssertError(short code, ProducerCheckResult result)
    {
        Assert.Equal(ProducerCheckOutcome.Error, result.Outcome);
        Assert.Equal(code, result.ErrorCode);
    }

    [Fact]
    public void BatchesWithoutProducerIdAreNotTracked()
    {
        var table = new ProducerStateTable();
        Assert.Equal(ProducerCheckOutcome.Append, table.Check(-1, -1, -1, 9, false).Outcome);
        table.Record(-1, -1, -1, 9, 0, 1_000);
        Assert.Equal(0, table.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(123_456)]
    [InlineData(int.MaxValue)]
    public void UnknownProducerIsAcceptedAtAnySequence(int baseSequence)
    {
        // KIP-360: no state (a new id, or one whose batches retention removed) accepts any sequence; brokers before
        // 2.5 answered UNKNOWN_PRODUCER_ID (59), which current Kafka never sends for a Produce.
        var table = new ProducerStateTable();
        Assert.Equal(ProducerCheckOutcome.Append, Send(table, 0, baseSequence, 3, 0).Outcome);
        Assert.Equal(Sequences.LastSequence(baseSequence, 2), table.TryGet(Pid, out var e) ? e.LastSequence : -2);
    }

    [Fact]
    public void ConsecutiveBatchesAppend()
    {
        var table = new ProducerStateTable();
        long offset = 0;
        for (int seq = 0; seq < 100; seq += 10)
        {
            Assert.Equal(ProducerCheckOutcome.Append, Send(table, 0, seq, 10, offset).Outcome);
            offset += 10;
        }
        Assert.True(table.TryGet(Pid, out var entry));
        Assert.Equal(99, entry.LastSequence);
        Assert.Equal(99, entry.LastOffset);
        Assert.Equal(ProducerEntry.RetainedBatches, entry.BatchCount);
    }

    [Theory]
    [InlineData(11)] // a gap: batch 10 was lost
    [InlineData(20)]
    [InlineData(9)]  // overlaps the last batch without being it
    [InlineData(5)]
    [InlineData(0)]  // the first batch again with other boundaries is not a duplicate
    public void SequenceNotRightAfterTheLastIsOutOfOrder(int baseSequence)
    {
        var table = new ProducerStateTable();
        Send(table, 0, 0, 10, 0);
        AssertError(OutOfOrder, Send(table, 0, baseSequence, 3, 10));
    }

    [Fact]
    public void EachOfTheLastFiveBatchesIsADuplicateWithItsOriginalOffsets()
    {
        var table = new ProducerStateTable();
        // Six batches of 10 records at offsets 100, 120, ... (other producers' data in between).
        for (int i = 0; i < 6; i++)
        {
            Send(table, 0, i * 10, 10, 100 + i * 20, timestamp: 5_000 + i);
        }
        for (int i = 1; i < 6; i++)
        {
            var retry = table.Check(Pid, 0, i * 10, 9, false);
            Assert.Equal(ProducerCheckOutcome.Duplicate, retry.Outcome);
            Assert.Equal(new ProducerBatch(i * 10, i * 10 + 9, 100 + i * 20, 100 + i * 20 + 9, 5_000 + i), retry.Duplicate);
        }
        // The sixth batch back is forgotten: its retry is out of sequence, not a duplicate.
        AssertError(OutOfOrder, table.Check(Pid, 0, 0, 9, false));
        // Same first sequence as a retained batch but other boundaries: out of order.
        AssertError(OutOfOrder, table.Check(Pid, 0, 50, 4, false));
        AssertError(OutOfOrder, table.Check(Pid, 0, 51, 8, false));
        // And the state did not move: the next batch still appends.
        Assert.Equal(ProducerCheckOutcome.Append, table.Check(Pid, 0, 60, 9, false).Outcome);
    }

    [Fact]
    public void DuplicatesNeedTheSameEpoch()
    {
        var table = new ProducerStateTable();
        Send(table, 0, 0, 10, 0);
        Send(table, 1, 0, 10, 10); // epoch bump: restarts at 0, forgets epoch 0's batches
        var retry = table.Check(Pid, 1, 0, 9, false);
        Assert.Equal(ProducerCheckOutcome.Duplicate, retry.Outcome);
        Assert.Equal(10, retry.Duplicate.BaseOffset);
        // The epoch-0 batch with the same sequences is from a fenced epoch.
        AssertError(InvalidEpoch, table.Check(Pid, 0, 0, 9, false));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(11)]
    public void OlderEpochIsInvalidProducerEpoch(int baseSequence)
    {
        // Kafka 2.7+ answers a Produce from a fenced epoch with INVALID_PRODUCER_EPOCH, not PRODUCER_FENCED.
        var table = new ProducerStateTable();
        Send(table, 3, 0, 10, 0);
        AssertError(InvalidEpoch, table.Check(Pid, 2, baseSequence, 0, false));
        AssertError(InvalidEpoch, table.Check(Pid, -1, baseSequence, 0, false));
    }

    [Fact]
    public void NewerEpochMustStartAtSequenceZero()
    {
        var table = new ProducerStateTable();
        Send(table, 0, 0, 10, 0);
        AssertError(OutOfOrder, table.Check(Pid, 1, 10, 0, false)); // continuing the old sequence under a new epoch
        AssertError(OutOfOrder, table.Check(Pid, 5, 1, 0, false));
        Assert.Equal(ProducerCheckOutcome.Append, Send(table, 1, 0, 5, 10).Outcome);
        Assert.True(table.TryGet(Pid, out var entry));
        Assert.Equal(1, entry.Epoch);
        Assert.Equal(1, entry.BatchCount); // the old epoch's batches are gone
        Assert.Equal(ProducerCheckOutcome.Append, Send(table, 1, 5, 5, 15).Outcome);
        AssertError(OutOfOrder, table.Check(Pid, 1, 20, 0, false));
    }

    [Fact]
    public void NewEpochOfUnknownProducerMayStartAnywhere()
    {
        // ProducerAppendInfo.checkSequence: a new epoch must start at 0 only when the broker had an epoch for it.
        var table = new ProducerStateTable();
        Assert.Equal(ProducerCheckOutcome.Append, Send(table, 7, 42, 3, 0).Outcome);
        Assert.Equal(ProducerCheckOutcome.Append, Send(table, 7, 45, 3, 3).Outcome);
    }

    [Fact]
    public void SequencesWrapAfterInt32Max()
    {
        var table = new ProducerStateTable();
        Send(table, 0, int.MaxValue - 9, 10, 0); // ends exactly at Int32.MaxValue
        Assert.True(table.TryGet(Pid, out var entry));
        Assert.Equal(int.MaxValue, entry.LastSequence);
        AssertError(OutOfOrder, table.Check(Pid, 0, 1, 0, false));
        Assert.Equal(ProducerCheckOutcome.Append, Send(table, 0, 0, 5, 10).Outcome); // 0 follows Int32.MaxValue
        Assert.Equal(4, entry.LastSequence);

        // A batch that itself crosses the top: base MaxValue - 2, 6 records, last sequence 2.
        var crossing = new ProducerStateTable();
        Send(crossing, 0, int.MaxValue - 2, 6, 0);
        Assert.True(crossing.TryGet(Pid, out var c));
        Assert.Equal(2, c.LastSequence);
        var retry = crossing.Check(Pid, 0, int.MaxValue - 2, 5, false);
        Assert.Equal(ProducerCheckOutcome.Duplicate, retry.Outcome);
        Assert.Equal(new ProducerBatch(int.MaxValue - 2, 2, 0, 5, 1_000), retry.Duplicate);
        Assert.Equal(ProducerCheckOutcome.Append, crossing.Check(Pid, 0, 3, 0, false).Outcome);
    }

    [Fact]
    public void SequenceArithmetic()
    {
        Assert.Equal(9, Sequences.LastSequence(0, 9));
        Assert.Equal(int.MaxValue, Sequences.LastSequence(int.MaxValue, 0));
        Assert.Equal(0, Sequences.LastSequence(int.MaxValue, 1));
        Assert.Equal(int.MaxValue - 1, Sequences.LastSequence(int.MaxValue, int.MaxValue));
        Assert.True(Sequences.InSequence(-1, 0));
        Assert.False(Sequences.InSequence(-1, 1));
        Assert.True(Sequences.InSequence(int.MaxValue, 0));
        Assert.False(Sequences.InSequence(int.MaxValue, int.MinValue));
        Assert.True(Sequences.InSequence(41, 42));
    }

    [Fact]
    public void ProducerIdWithoutSequenceIsInvalidRecord()
    {
        var table = new ProducerStateTable();
        AssertError(InvalidRecord, table.Check(Pid, 0, -1, 0, false));
        AssertError(InvalidRecord, table.Check(Pid, 0, int.MinValue, 0, false));
    }

    [Fact]
    public void TransactionalBatchIsInvalidTxnState()
    {
        // No transaction coordinator, so never an ongoing transaction: Kafka's partition verification refuses it.
        var table = new ProducerStateTable();
        AssertError(InvalidTxnState, table.Check(Pid, 0, 0, 0, isTransactional: true));
    }

    [Fact]
    public void ProducersAreIndependent()
    {
        var table = new ProducerStateTable();
        Send(table, 0, 0, 10, 0, pid: 1);
        Send(table, 4, 100, 10, 10, pid: 2);
        Assert.Equal(ProducerCheckOutcome.Append, table.Check(1, 0, 10, 0, false).Outcome);
        Assert.Equal(ProducerCheckOutcome.Append, table.Check(2, 4, 110, 0, false).Outcome);
        AssertError(InvalidEpoch, table.Check(2, 0, 110, 0, false));
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void ReplayTakesTheLoggedEpochAsIs()
    {
        // Rebuild (Kafka's replication origin) does not validate: the log is the truth, even an epoch going back.
        var table = new ProducerStateTable();
        table.Replay(Batch(Pid, 5, 0, 10, 0));
        table.Replay(Batch(Pid, 4, 0, 10, 10));
        Assert.True(table.TryGet(Pid, out var entry));
        Assert.Equal(4, entry.Epoch);
        Assert.Equal(1, entry.BatchCount);
        table.Replay(Batch(-1, -1, -1, 3, 20)); // not idempotent: ignored
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void IdleProducersExpire()
    {
        var table = new ProducerStateTable();
        Send(table, 0, 0, 1, 0, pid: 1, timestamp: 1_000);
        Send(table, 0, 0, 1, 1, pid: 2, timestamp: 5_000);
        Assert.Equal(0, table.RemoveExpired(nowMs: 1_000 + 9_999, expirationMs: 10_000));
        Assert.Equal(1, table.RemoveExpired(nowMs: 1_000 + 10_000, expirationMs: 10_000));
        Assert.False(table.TryGet(1, out _));
        Assert.True(table.TryGet(2, out _));
        // A forgotten producer has no state: any sequence is accepted again.
        Assert.Equal(ProducerCheckOutcome.Append, table.Check(1, 0, 77, 0, false).Outcome);
    }

    [Fact]
    public void CheckAndRecordOfAKnownProducerAllocateNothing()
    {
        var table = new ProducerStateTable();
        for (int i = 0; i < 64; i++)
        {
            Send(table, 0, 0, 1, i, pid: i);
        }
        int seq = 1;
        long offset = 100;
        for (int i = 0; i < 1024; i++)
        {
            Send(table, 0, seq, 10, offset, pid: i % 64);
            if (i % 64 == 63)
            {
                seq += 10;
            }
            offset += 10;
        }
        int wrong = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_048; i++)
        {
            var result = Send(table, 0, seq, 10, offset, pid: i % 64);
            var retry = table.Check(i % 64, 0, seq, 9, false);
            if (result.Outcome != ProducerCheckOutcome.Append || retry.Outcome != ProducerCheckOutcome.Duplicate)
            {
                wrong++;
            }
            if (i % 64 == 63)
            {
                seq += 10;
            }
            offset += 10;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, wrong);
        Assert.Equal(0, allocated);
    }

    private static RecordBatch Batch(long pid, short epoch, int seq, int records, long baseOffset)
    {
        var bytes = ProducerBatches.Make(pid, epoch, seq, records);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes, baseOffset);
        return new RecordBatch(bytes);
    }
}
