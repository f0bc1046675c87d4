namespace Eddy.Storage;

// What Raft reads of the log without I/O: the term of an offset and where a run of whole batches ends.
public sealed partial class PartitionLog
{
    /// <summary>
    /// The term of the segment holding <paramref name="offset"/>. A new term starts a new segment, so this is the
    /// partitionLeaderEpoch of every batch in that segment: the Raft term of the offset. Answered from the segment list.
    /// </summary>
    public int TermAt(long offset)
    {
        _shard.AssertCurrent();
        if (offset < _segments[0].BaseOffset || offset >= LogEndOffset)
        {
            throw new OffsetOutOfRangeException(offset, _segments[0].BaseOffset, LogEndOffset);
        }
        return SegmentFor(offset).Term;
    }

    /// <summary>
    /// Where a run of whole batches from the batch starting at <paramref name="offset"/> ends (the offset after it):
    /// inside one segment, so one term, and about <paramref name="maxBytes"/> long, stopping at the first batch start the
    /// sparse index knows past that, or at the segment's end. Answered from the index in memory, without I/O, so the
    /// Raft core can cut the log into messages without reading it.
    /// </summary>
    public long WholeBatchesEnd(long offset, int maxBytes)
    {
        _shard.AssertCurrent();
        var segment = SegmentFor(offset);
        var entries = segment.Index.Entries;
        long relative = offset - segment.BaseOffset;
        int start = segment.Index.FindPosition(relative);
        // The first indexed batch after offset, by binary search; then forward to one maxBytes away.
        int lo = 0, hi = entries.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (entries[mid].RelativeOffset <= relative)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        for (int i = lo; i < entries.Length; i++)
        {
            if (entries[i].Position - start >= maxBytes)
            {
                return segment.BaseOffset + entries[i].RelativeOffset;
            }
        }
        return segment.NextOffset;
    }
}
