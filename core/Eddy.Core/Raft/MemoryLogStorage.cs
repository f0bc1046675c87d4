namespace Eddy.Raft;

/// <summary>
/// Log storage held in memory: the controller's mirror of its kvstore (its log is a few hundred commands between
/// snapshots), the simulator's disk contents and the unit tests' logs. Checks that every write, compaction and read
/// falls on entry boundaries and leaves no gap.
/// </summary>
public sealed class MemoryLogStorage : IRaftLogStorage
{
    private readonly List<Entry> entries = new();

    public MemoryLogStorage(long snapshotIndex = 0, IEnumerable<Entry>? durable = null)
    {
        Invariant.True(snapshotIndex >= 0, "snapshot index below 0");
        SnapshotIndex = snapshotIndex;
        if (durable is not null) Write([.. durable]);
    }

    /// <summary>The last index a snapshot covers; entries start right after it.</summary>
    public long SnapshotIndex { get; private set; }
    public long LastIndex => entries.Count > 0 ? entries[^1].LastIndex : SnapshotIndex;
    public int Count => entries.Count;

    public long Term(long index)
    {
        Invariant.True(index > SnapshotIndex && index <= LastIndex, "term asked outside the stored entries");
        return entries[EntrySearch.Find(entries, index)].Term;
    }

    public void Read(long from, long to, int max, List<Entry> into)
    {
        if (from > to || max <= 0) return;
        for (int i = EntrySearch.FindStart(entries, from); i < entries.Count && max > 0 && entries[i].LastIndex <= to; i++, max--)
        {
            into.Add(entries[i]);
        }
    }

    /// <summary>Writes contiguous entries, replacing the log from the first of them on.</summary>
    public void Write(ReadOnlySpan<Entry> written)
    {
        if (written.IsEmpty) return;
        long first = written[0].Index;
        Invariant.True(first > SnapshotIndex && first <= LastIndex + 1, "a write leaves a gap or lands in the snapshot");
        if (first <= LastIndex)
        {
            int keep = EntrySearch.FindStart(entries, first);
            entries.RemoveRange(keep, entries.Count - keep);
        }
        foreach (var e in written)
        {
            Invariant.True(e.Index == LastIndex + 1, "written entries must be contiguous");
            entries.Add(e);
        }
    }

    /// <summary>Drops the entries through <paramref name="index"/> (the end of an entry), which a snapshot now covers.</summary>
    public void Compact(long index)
    {
        if (index <= SnapshotIndex) return;
        Invariant.True(index <= LastIndex, "compaction beyond the stored entries");
        int drop = EntrySearch.Find(entries, index);
        Invariant.True(entries[drop].LastIndex == index, "compaction inside an entry");
        entries.RemoveRange(0, drop + 1);
        SnapshotIndex = index;
    }

    /// <summary>A snapshot from the leader replaces the whole log.</summary>
    public void Reset(long snapshotIndex)
    {
        entries.Clear();
        SnapshotIndex = snapshotIndex;
    }
}
