namespace Eddy.Cluster.Producers;

/// <summary>
/// One batch an idempotent producer appended to a partition, as the producer state remembers it: enough to
/// recognise a retry of it and answer with where it went the first time.
/// </summary>
/// <param name="FirstSequence">The batch's base sequence.</param>
/// <param name="LastSequence">The sequence of its last record (wrapped past Int32.MaxValue, see <see cref="Sequences"/>).</param>
/// <param name="BaseOffset">The offset the log assigned to its first record.</param>
/// <param name="LastOffset">The offset of its last record.</param>
/// <param name="MaxTimestamp">Its max timestamp as stored; Kafka returns it as the log append time of a duplicate.</param>
public readonly record struct ProducerBatch(int FirstSequence, int LastSequence, long BaseOffset, long LastOffset, long MaxTimestamp);

/// <summary>Sequence arithmetic as Kafka's record batch defines it.</summary>
public static class Sequences
{
    /// <summary>
    /// The sequence of a batch's last record. Sequences are non-negative int32 values that wrap from
    /// Int32.MaxValue to 0 (Kafka's DefaultRecordBatch.incrementSequence), so a batch may start near the top and
    /// end near 0.
    /// </summary>
    public static int LastSequence(int baseSequence, int lastOffsetDelta)
        => (int)(((long)baseSequence + lastOffsetDelta) & int.MaxValue);

    /// <summary>
    /// Whether <paramref name="next"/> directly follows <paramref name="last"/>: last + 1, or 0 after
    /// Int32.MaxValue (Kafka's ProducerAppendInfo.inSequence). A last sequence of -1 (no batch yet) is followed
    /// by 0 only.
    /// </summary>
    public static bool InSequence(int last, int next)
        => next == (long)last + 1 || (next == 0 && last == int.MaxValue);
}
