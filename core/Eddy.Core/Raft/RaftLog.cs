namespace Eddy.Raft;

/// <summary>
/// The in-memory log of one group: a snapshot prefix (index and term only) and the entries after
/// it. Stable marks how far the driver has made entries durable; Committed and Applied follow Raft.
/// Holds no I/O: the driver persists what Ready hands it and reports back through Advance.
/// </summary>
internal sealed class RaftLog
{
    private readonly List<Entry> entries = new();

    public long SnapshotIndex { get; private set; }
    public long SnapshotTerm { get; private set; }
    public long Committed { get; private set; }
    public long Applied { get; private set; }
    /// <summary>Entries up to here are durable on this node (0 when nothing is).</summary>
    public long Stable { get; private set; }

    public long FirstIndex => SnapshotIndex + 1;
    public long LastIndex => SnapshotIndex + entries.Count;
    public long LastTerm => Term(LastIndex);
    public int Count => entries.Count;

    /// <summary>Term at index; 0 for an index past the end, -1 for one compacted away (unknowable).</summary>
    public long Term(long index)
    {
        if (index == SnapshotIndex) return SnapshotTerm;
        if (index < SnapshotIndex) return -1;
        if (index > LastIndex) return 0;
        return entries[(int)(index - FirstIndex)].Term;
    }

    public ref readonly Entry this[long index]
    {
        get
        {
            Invariant.True(index >= FirstIndex && index <= LastIndex, "log index out of range");
            return ref System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries)[(int)(index - FirstIndex)];
        }
    }

    public bool MatchTerm(long index, long term) => term >= 0 && Term(index) == term && index <= LastIndex;

    /// <summary>The election restriction: is (lastIndex, lastTerm) at least as up to date as this log?</summary>
    public bool IsUpToDate(long lastIndex, long lastTerm) =>
        lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    public void Append(in Entry entry)
    {
        Invariant.True(entry.Index == LastIndex + 1, "appended entry must follow the last one");
        Invariant.True(entry.Term >= LastTerm, "terms never decrease along a log");
        entries.Add(entry);
    }

    /// <summary>
    /// A follower's append: if the log has (prevIndex, prevTerm), overwrite from the first conflicting
    /// entry and return the index of the last entry that came in; otherwise -1.
    /// </summary>
    public long TryAppend(long prevIndex, long prevTerm, ReadOnlySpan<Entry> incoming)
    {
        // The caller answers appends below its commit itself; everything below commit matches.
        Invariant.True(prevIndex >= Committed, "append below commit reached the log");
        if (!MatchTerm(prevIndex, prevTerm)) return -1;
        long last = prevIndex + incoming.Length;
        for (int i = 0; i < incoming.Length; i++)
        {
            ref readonly var e = ref incoming[i];
            Invariant.True(e.Index == prevIndex + 1 + i, "incoming entries must be contiguous");
            long existing = Term(e.Index);
            if (existing == e.Term) continue;
            // A conflict (or the end): everything from here on is replaced by the leader's entries.
            Invariant.True(e.Index > Committed, "a committed entry would be overwritten");
            TruncateFrom(e.Index);
            for (int j = i; j < incoming.Length; j++) Append(incoming[j]);
            break;
        }
        return last;
    }

    /// <summary>Drop entries from index on (an uncommitted suffix that lost to a leader's log).</summary>
    private void TruncateFrom(long index)
    {
        if (index > LastIndex) return;
        Invariant.True(index > Committed && index > SnapshotIndex, "truncation below commit");
        entries.RemoveRange((int)(index - FirstIndex), (int)(LastIndex - index + 1));
        if (Stable >= index) Stable = index - 1;
    }

    /// <summary>
    /// The fast back-off hint: the largest index at or below `index` whose term is at most `term`.
    /// Every entry after it is known not to match, so the leader can skip a whole term per round trip.
    /// </summary>
    public long FindConflictByTerm(long index, long term)
    {
        index = Math.Min(index, LastIndex);
        while (index > SnapshotIndex && Term(index) > term) index--;
        return index;
    }

    /// <summary>Copies entries [from, to] (at most max) for a message; the copy keeps messages immutable.</summary>
    public Entry[] Slice(long from, long to, int max)
    {
        if (from > to) return [];
        Invariant.True(from >= FirstIndex && to <= LastIndex, "slice out of range");
        int count = (int)Math.Min(to - from + 1, max);
        var slice = new Entry[count];
        entries.CopyTo((int)(from - FirstIndex), slice, 0, count);
        return slice;
    }

    public void CopyTo(long from, long to, List<Entry> into)
    {
        for (long i = from; i <= to; i++) into.Add(this[i]);
    }

    public void CommitTo(long index)
    {
        if (index <= Committed) return;
        Invariant.True(index <= LastIndex, "commit beyond the end of the log");
        Committed = index;
    }

    public void AppliedTo(long index)
    {
        Invariant.True(index >= Applied && index <= Committed, "applied must stay within committed");
        Applied = index;
    }

    /// <summary>Durability notice: entries through (index, term) are on disk, if the log still holds them.</summary>
    public void StableTo(long index, long term)
    {
        // A suffix replaced while the write was in flight: the old bytes do not count as these.
        if (index > Stable && Term(index) == term) Stable = index;
    }

    /// <summary>Drop the prefix through index, which the application has captured in a snapshot.</summary>
    public void CompactTo(long index)
    {
        if (index <= SnapshotIndex) return;
        Invariant.True(index <= Applied && index <= Stable, "compaction beyond applied or durable entries");
        long term = Term(index);
        entries.RemoveRange(0, (int)(index - SnapshotIndex));
        SnapshotIndex = index;
        SnapshotTerm = term;
    }

    /// <summary>Replace the whole log with a snapshot (a lagging follower installing the leader's).</summary>
    public void RestoreSnapshot(long index, long term)
    {
        Invariant.True(index > Committed, "restoring a snapshot older than the commit");
        entries.Clear();
        SnapshotIndex = index;
        SnapshotTerm = term;
        Committed = index;
        Stable = index;
    }

    /// <summary>Rebuild after a restart from what was durable.</summary>
    public void Load(long snapshotIndex, long snapshotTerm, IReadOnlyList<Entry> durable, long commit)
    {
        Invariant.True(entries.Count == 0 && SnapshotIndex == 0, "load into an empty log only");
        SnapshotIndex = snapshotIndex;
        SnapshotTerm = snapshotTerm;
        foreach (var e in durable) Append(e);
        Stable = LastIndex;
        Invariant.True(commit <= LastIndex, "durable commit beyond durable entries");
        Committed = Math.Max(commit, snapshotIndex);
        Applied = snapshotIndex;
    }

    public void SnapshotApplied(long index)
    {
        Invariant.True(index == SnapshotIndex && index >= Applied, "applied snapshot must be the log's");
        Applied = index;
    }
}
