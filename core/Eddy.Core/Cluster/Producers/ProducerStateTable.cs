using Eddy.Errors;
using Eddy.Records;

namespace Eddy.Cluster.Producers;

/// <summary>
/// The idempotent-producer state of one partition: per producer id, its epoch and its last
/// <see cref="ProducerEntry.RetainedBatches"/> batches. Used only on the partition's shard, so it takes no locks.
/// <para>
/// The produce path calls <see cref="Check(long, short, int, int, bool)"/> before appending a batch and
/// <see cref="Record(long, short, int, int, long, long)"/> once the log has given it an offset, with no other
/// check for the same partition in between (Kafka validates and appends under the log's lock; see
/// <see cref="ProducerAppender"/>, which does exactly this). Recovery fills the table with
/// <see cref="Replay(RecordBatch)"/> and snapshots (<see cref="ProducerStateLoader"/>).
/// </para>
/// The rules are those of Apache Kafka 3.x/4.x (UnifiedLog.analyzeAndValidateProducerState, ProducerAppendInfo,
/// ProducerStateEntry), as the comments on <see cref="Check(long, short, int, int, bool)"/> say one by one.
/// </summary>
public sealed class ProducerStateTable
{
    /// <summary>producer.id.expiration.ms default: a producer idle this long may be forgotten (1 day).</summary>
    public const long DefaultExpirationMs = 24 * 60 * 60 * 1000;

    private readonly Dictionary<long, ProducerEntry> _producers = [];

    public int Count => _producers.Count;

    public IEnumerable<ProducerEntry> Producers => _producers.Values;

    /// <summary>Batches recorded or replayed since the table was last written to a snapshot: what a crash would
    /// replay from the log. The owner may snapshot when it grows large.</summary>
    public long BatchesSinceSnapshot { get; internal set; }

    public bool TryGet(long producerId, out ProducerEntry entry) => _producers.TryGetValue(producerId, out entry!);

    /// <summary>Checks a batch from a client (Produce) before it is appended. Allocates nothing.</summary>
    public ProducerCheckResult Check(RecordBatch batch)
        => Check(batch.ProducerId, batch.ProducerEpoch, batch.BaseSequence, batch.LastOffsetDelta, batch.IsTransactional);

    /// <summary>
    /// Checks a batch from a client (Produce) before it is appended. Allocates nothing.
    /// </summary>
    /// <param name="producerId">The batch's producer id; a negative one (-1: not idempotent) is not checked.</param>
    /// <param name="producerEpoch">The batch's producer epoch.</param>
    /// <param name="baseSequence">The sequence of its first record.</param>
    /// <param name="lastOffsetDelta">Its last offset delta (record count - 1, which Produce validation ensures).</param>
    /// <param name="isTransactional">Attribute bit 4.</param>
    public ProducerCheckResult Check(long producerId, short producerEpoch, int baseSequence, int lastOffsetDelta, bool isTransactional)
    {
        // Kafka tracks only batches whose producer id is set (RecordBatch.hasProducerId: id > -1).
        if (producerId < 0)
        {
            return ProducerCheckResult.Append;
        }
        // LogValidator refuses a batch with a producer id but no sequence: INVALID_RECORD.
        if (baseSequence < 0)
        {
            return ProducerCheckResult.Fail(KafkaErrors.InvalidRecord);
        }
        // Eddy has no transaction coordinator, so no transaction is ever ongoing on a partition. Kafka's
        // partition verification (KIP-890 part 1, on by default) refuses a transactional batch outside a
        // transaction the coordinator knows: INVALID_TXN_STATE.
        if (isTransactional)
        {
            return ProducerCheckResult.Fail(KafkaErrors.InvalidTxnState);
        }
        int lastSequence = Sequences.LastSequence(baseSequence, lastOffsetDelta);
        _producers.TryGetValue(producerId, out var entry);
        // Duplicates first: a retry whose epoch and exact sequence range match one of the retained batches is not
        // appended again, and succeeds with the original batch's offsets (analyzeAndValidateProducerState; current
        // brokers never send DUPLICATE_SEQUENCE_NUMBER for it).
        if (entry is not null && entry.TryFindDuplicate(producerEpoch, baseSequence, lastSequence, out var original))
        {
            return ProducerCheckResult.DuplicateOf(original);
        }
        // An unknown producer counts as one with epoch -1 and no batch (ProducerStateEntry.empty).
        short currentEpoch = entry?.Epoch ?? -1;
        // An older epoch is a fenced (zombie) producer: INVALID_PRODUCER_EPOCH. Since Kafka 2.7 a Produce gets this
        // rather than PRODUCER_FENCED (ProducerAppendInfo.checkProducerEpoch).
        if (producerEpoch < currentEpoch)
        {
            return ProducerCheckResult.Fail(KafkaErrors.InvalidProducerEpoch);
        }
        if (producerEpoch != currentEpoch)
        {
            // A newer epoch (a bump after an error, KIP-360) starts its sequences again at 0; any other first
            // sequence is OUT_OF_ORDER_SEQUENCE_NUMBER. Without state (epoch -1) any sequence is accepted.
            if (baseSequence != 0 && currentEpoch != -1)
            {
                return ProducerCheckResult.Fail(KafkaErrors.OutOfOrderSequenceNumber);
            }
        }
        else if (currentEpoch != -1 && !Sequences.InSequence(entry!.LastSequence, baseSequence))
        {
            // Same epoch: the batch must start right after the last one (wrapping after Int32.MaxValue). A gap, a
            // retry older than the retained batches, or a retry with other batch boundaries lands here. With no
            // state at all (an unknown producer, or one whose batches retention or DeleteRecords removed) any
            // sequence is accepted: KIP-360, since Kafka 2.5; older brokers answered UNKNOWN_PRODUCER_ID.
            return ProducerCheckResult.Fail(KafkaErrors.OutOfOrderSequenceNumber);
        }
        return ProducerCheckResult.Append;
    }

    /// <summary>
    /// Records a batch the log has just appended after <see cref="Check(long, short, int, int, bool)"/> said
    /// Append. Allocates nothing for a known producer. A negative producer id is ignored.
    /// </summary>
    /// <param name="baseOffset">The offset the log assigned to the batch's first record.</param>
    /// <param name="maxTimestamp">The batch's max timestamp as stored (the append time for LogAppendTime).</param>
    public void Record(long producerId, short producerEpoch, int baseSequence, int lastOffsetDelta, long baseOffset, long maxTimestamp)
    {
        if (producerId < 0)
        {
            return;
        }
        var batch = new ProducerBatch(baseSequence, Sequences.LastSequence(baseSequence, lastOffsetDelta), baseOffset, baseOffset + lastOffsetDelta, maxTimestamp);
        GetOrAdd(producerId, producerEpoch).Add(producerEpoch, batch);
        BatchesSinceSnapshot++;
    }

    /// <summary>Records a batch as appended at <paramref name="baseOffset"/>, with its own max timestamp.</summary>
    public void Record(RecordBatch batch, long baseOffset)
        => Record(batch.ProducerId, batch.ProducerEpoch, batch.BaseSequence, batch.LastOffsetDelta, baseOffset, batch.MaxTimestamp);

    /// <summary>
    /// Applies a batch read back from the log (recovery), without checks: it was checked when appended. As in
    /// Kafka's rebuild (replication origin), the batch's epoch becomes the producer's epoch. Batches without a
    /// producer id and control batches (transaction markers, which Eddy never writes) change nothing.
    /// </summary>
    public void Replay(RecordBatch batch)
    {
        if (batch.ProducerId < 0 || batch.IsControl || batch.BaseSequence < 0)
        {
            return;
        }
        Record(batch.ProducerId, batch.ProducerEpoch, batch.BaseSequence, batch.LastOffsetDelta, batch.BaseOffset, batch.MaxTimestamp);
    }

    /// <summary>
    /// Forgets producers idle for at least <paramref name="expirationMs"/>: their last batch's max timestamp is
    /// that old (Kafka's ProducerStateManager.isProducerExpired with producer.id.expiration.ms). Returns how many.
    /// A forgotten producer that comes back is accepted at any sequence (no state, KIP-360).
    /// </summary>
    public int RemoveExpired(long nowMs, long expirationMs = DefaultExpirationMs)
    {
        int removed = 0;
        foreach (var (id, entry) in _producers)
        {
            if (nowMs - entry.LastTimestamp >= expirationMs)
            {
                _producers.Remove(id); // removing the current key while enumerating is allowed
                removed++;
            }
        }
        return removed;
    }

    public void Clear()
    {
        _producers.Clear();
        BatchesSinceSnapshot = 0;
    }

    /// <summary>Adds an entry read from a snapshot (replacing any with the same id).</summary>
    internal ProducerEntry Restore(long producerId, short epoch)
    {
        var entry = new ProducerEntry(producerId, epoch);
        _producers[producerId] = entry;
        return entry;
    }

    private ProducerEntry GetOrAdd(long producerId, short epoch)
    {
        if (!_producers.TryGetValue(producerId, out var entry))
        {
            entry = new ProducerEntry(producerId, epoch);
            _producers.Add(producerId, entry);
        }
        return entry;
    }
}
