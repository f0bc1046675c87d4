using Eddy.Storage;

namespace Eddy.Raft.Driver;

/// <summary>
/// A partition's log as the Raft core reads it. Raft index n is the end of offset n - 1 (the commit index is the high
/// watermark, the last index the log end offset), and a term is the partitionLeaderEpoch of the batches, which the
/// segment holding them carries in its name: both are answered without I/O. Entries come back as runs of whole
/// batches of one term (<see cref="PartitionLog.WholeBatchesEnd"/>) with no data: the core only needs their ranges and
/// terms, and the driver reads their bytes from the log (batch cache or disk) when it sends them. Membership changes,
/// control batches in the log, come back as the config entries they are, from the list the driver keeps of them.
/// </summary>
public sealed class PartitionLogStorage : IRaftLogStorage
{
    /// <summary>About how many bytes of batches one entry read back stands for; messages carry up to
    /// <see cref="RaftOptions.MaxEntriesPerMessage"/> of them.</summary>
    public const int RunBytes = 256 << 10;

    private readonly PartitionLog _log;
    private readonly List<Entry> _changes;

    /// <param name="changes">The config entries the log holds, in index order (the driver found them at open).</param>
    public PartitionLogStorage(PartitionLog log, List<Entry> changes)
    {
        _log = log;
        _changes = changes;
    }

    /// <summary>The membership changes the log holds, in index order.</summary>
    public IReadOnlyList<Entry> Changes => _changes;

    public long LastIndex => _log.LogEndOffset;

    public long Term(long index) => _log.TermAt(index - 1);

    public void Read(long from, long to, int max, List<Entry> into)
    {
        int next = FirstChangeFrom(from);
        while (from <= to && max-- > 0)
        {
            if (next < _changes.Count && _changes[next].Index == from)
            {
                into.Add(_changes[next++]);
                from++;
                continue;
            }
            long end = Math.Min(to, _log.WholeBatchesEnd(from - 1, RunBytes));
            if (next < _changes.Count)
            {
                end = Math.Min(end, _changes[next].Index - 1);
            }
            into.Add(new Entry(_log.TermAt(from - 1), from, end, EntryType.Normal, ReadOnlyMemory<byte>.Empty));
            from = end + 1;
        }
    }

    /// <summary>A config entry written to the log (after every one listed).</summary>
    internal void AddChange(in Entry change)
    {
        Invariant.True(change.Type == EntryType.ConfigChange && (_changes.Count == 0 || change.Index > _changes[^1].Index),
            "membership changes are listed in log order");
        _changes.Add(change);
    }

    /// <summary>Forgets the config entries at or after <paramref name="index"/> (a truncated tail); whether any went.</summary>
    internal bool DropChangesFrom(long index)
    {
        int at = FirstChangeFrom(index);
        if (at == _changes.Count)
        {
            return false;
        }
        _changes.RemoveRange(at, _changes.Count - at);
        return true;
    }

    /// <summary>Forgets the config entries at or before <paramref name="index"/> (a prefix compacted away: the
    /// membership there is the snapshot's).</summary>
    internal void DropChangesThrough(long index) => _changes.RemoveAll(c => c.Index <= index);

    private int FirstChangeFrom(long index)
    {
        int at = _changes.Count;
        while (at > 0 && _changes[at - 1].Index >= index)
        {
            at--;
        }
        return at;
    }
}
