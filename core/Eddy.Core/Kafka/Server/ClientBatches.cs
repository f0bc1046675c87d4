using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Kafka.Server;

/// <summary>
/// What a fetch hands a Kafka client of a read: never a response of batches it has no use for alone, and none of Eddy's
/// own Raft control batches (a new leader's no-op, a membership change: control batches that are not transaction
/// markers). Java and librdkafka skip both kinds; kafka-python (2.0) fails on a response holding only empty batches and
/// returns the records of control batches to the application. Empty batches are those compaction keeps for an
/// idempotent producer and a replica's leader sends in place of compacted gaps; Kafka's cleaner leaves the first kind
/// too. So hidden batches at the start of a read are skipped when a batch with records follows below the high watermark
/// (the client's next fetch asks from after it), and a read ends before the next Raft control batch; empty batches
/// between others pass, as Kafka passes them. Hidden batches up to the high watermark (a new leader's no-op at the log
/// end) are returned as they are: every client then moves its position to the high watermark (librdkafka signals the
/// partition's end only there), and kafka-python 2.0 returns that no-op's record as it returns Kafka's transaction
/// markers.
/// </summary>
internal static class ClientBatches
{
    /// <summary>How many reads a fetch makes past hidden batches before it answers with what it has: each read covers
    /// at least a segment's worth of them.</summary>
    public const int MaxReadsPastHidden = 8;

    /// <summary>A batch no client needs alone: a Raft control batch, or one holding no records.</summary>
    public static bool IsHidden(in RecordBatch batch) => batch.IsControl ? !batch.IsTransactional : batch.RecordCount == 0;

    private static bool IsRaftControl(in RecordBatch batch) => batch.IsControl && !batch.IsTransactional;

    /// <summary>The read without its leading hidden batches and cut before its next Raft control batch (the same owner:
    /// dispose one of the two); empty when it holds nothing else, with <paramref name="next"/> the offset after what was
    /// skipped.</summary>
    public static LogRead Visible(LogRead read, out long next)
    {
        next = read.FirstOffset;
        int start = 0;
        int at = 0;
        long first = -1;
        foreach (var batch in RecordBatch.Enumerate(read.Records.Span))
        {
            if (first < 0)
            {
                if (IsHidden(batch))
                {
                    at += batch.TotalSize;
                    start = at;
                    next = batch.LastOffset + 1;
                    continue;
                }
                first = batch.BaseOffset;
            }
            else if (IsRaftControl(batch))
            {
                break;
            }
            at += batch.TotalSize;
            next = batch.LastOffset + 1;
        }
        if (first < 0)
        {
            return default;
        }
        return start == 0 && at == read.Records.Length ? read : read.Slice(start, at - start, first, next);
    }
}
