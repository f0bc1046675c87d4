using Eddy.Storage;

namespace Eddy.Raft.Driver;

/// <summary>
/// A partition's log as the Raft core reads it. Raft index n is the end of offset n - 1 (the commit index is the high
/// watermark, the last index the log end offset), and a term is the partitionLeaderEpoch of the batches, which the
/// segment holding them carries in its name: both are answered without I/O. Entries come back as runs of whole
/// batches of one term (<see cref="PartitionLog.WholeBatchesEnd"/>) with no data: the core only needs their ranges and
/// terms, and the driver reads their bytes from the log (batch cache or disk) when it sends them.
/// </summary>
public sealed class PartitionLogStorage : IRaftLogStorage
{
    /// <summary>About how many bytes of batches one entry read back stands for; messages carry up to
    /// <see cref="RaftOptions.MaxEntriesPerMessage"/> of them.</summary>
    public const int RunBytes = 256 << 10;

    private readonly PartitionLog _log;

    public PartitionLogStorage(PartitionLog log) => _log = log;

    public long LastIndex => _log.LogEndOffset;

    public long Term(long index) => _log.TermAt(index - 1);

    public void Read(long from, long to, int max, List<Entry> into)
    {
        while (from <= to && max-- > 0)
        {
            long end = Math.Min(to, _log.WholeBatchesEnd(from - 1, RunBytes));
            into.Add(new Entry(_log.TermAt(from - 1), from, end, EntryType.Normal, ReadOnlyMemory<byte>.Empty));
            from = end + 1;
        }
    }
}
