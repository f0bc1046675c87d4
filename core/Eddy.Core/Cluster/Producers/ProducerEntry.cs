using System.Runtime.CompilerServices;

namespace Eddy.Cluster.Producers;

/// <summary>
/// What one partition knows about one producer id: its epoch, its last few batches (oldest first) and the max
/// timestamp of the newest. The batches live in a fixed inline ring, so recording a batch never allocates.
/// </summary>
public sealed class ProducerEntry
{
    /// <summary>
    /// Kafka remembers the last 5 batches per producer and partition (ProducerStateEntry.NUM_BATCHES_TO_RETAIN),
    /// which is why idempotent clients cap max.in.flight.requests.per.connection at 5: any retry is then still
    /// recognisable.
    /// </summary>
    public const int RetainedBatches = 5;

    private BatchRing _ring;
    private int _oldest;

    internal ProducerEntry(long producerId, short epoch)
    {
        ProducerId = producerId;
        Epoch = epoch;
        LastTimestamp = -1;
    }

    public long ProducerId { get; }

    /// <summary>The epoch of the batches remembered; a batch with a newer epoch replaces them all.</summary>
    public short Epoch { get; private set; }

    /// <summary>Max timestamp of the last batch recorded (what expiry measures idleness from, as in Kafka).</summary>
    public long LastTimestamp { get; private set; }

    public int BatchCount { get; private set; }

    /// <summary>The sequence of the newest batch's last record; -1 with no batch.</summary>
    public int LastSequence => BatchCount == 0 ? -1 : Newest.LastSequence;

    /// <summary>The offset of the newest batch's last record; -1 with no batch.</summary>
    public long LastOffset => BatchCount == 0 ? -1 : Newest.LastOffset;

    private ProducerBatch Newest => _ring[(_oldest + BatchCount - 1) % RetainedBatches];

    /// <summary>The <paramref name="index"/>-th remembered batch, oldest first.</summary>
    public ProducerBatch GetBatch(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)BatchCount, nameof(index));
        return _ring[(_oldest + index) % RetainedBatches];
    }

    /// <summary>
    /// A remembered batch with exactly this sequence range, at this epoch (Kafka's
    /// ProducerStateEntry.findDuplicateBatch: another epoch never matches, nor does a range that only overlaps).
    /// </summary>
    internal bool TryFindDuplicate(short epoch, int firstSequence, int lastSequence, out ProducerBatch duplicate)
    {
        if (epoch == Epoch)
        {
            for (int i = 0; i < BatchCount; i++)
            {
                var batch = _ring[(_oldest + i) % RetainedBatches];
                if (batch.FirstSequence == firstSequence && batch.LastSequence == lastSequence)
                {
                    duplicate = batch;
                    return true;
                }
            }
        }
        duplicate = default;
        return false;
    }

    /// <summary>Remembers an appended batch. Another epoch first forgets the batches of the old one (Kafka's
    /// maybeUpdateProducerEpoch); a full ring drops its oldest.</summary>
    internal void Add(short epoch, ProducerBatch batch)
    {
        if (epoch != Epoch)
        {
            Epoch = epoch;
            BatchCount = 0;
            _oldest = 0;
        }
        if (BatchCount == RetainedBatches)
        {
            _oldest = (_oldest + 1) % RetainedBatches;
            BatchCount--;
        }
        _ring[(_oldest + BatchCount) % RetainedBatches] = batch;
        BatchCount++;
        LastTimestamp = batch.MaxTimestamp;
    }

    /// <summary>Restores the last-timestamp a snapshot stored (it may differ from the newest batch's after a
    /// snapshot of an entry with no batch).</summary>
    internal void SetLastTimestamp(long timestamp) => LastTimestamp = timestamp;

    [InlineArray(RetainedBatches)]
    private struct BatchRing
    {
        private ProducerBatch _element;
    }
}
