namespace Eddy.Raft;

/// <summary>
/// One group's log as the core sees it: a snapshot prefix (index and term only), the durable entries after it in the
/// driver's <see cref="IRaftLogStorage"/> (through Stable), and the entries not yet durable in memory (after Stable).
/// Entries cover ranges of indices; the log is only ever cut between them. Committed and Applied follow Raft. Holds no
/// I/O: the driver persists what Ready hands it and reports back through Advance.
/// </summary>
internal sealed class RaftLog
{
    private readonly IRaftLogStorage storage;
    // Entries after Stable, contiguous from Stable + 1; they shadow whatever storage still holds past Stable.
    private readonly List<Entry> unstable = new();

    public RaftLog(IRaftLogStorage storage) => this.storage = storage;

    public long SnapshotIndex { get; private set; }
    public long SnapshotTerm { get; private set; }
    public long Committed { get; private set; }
    public long Applied { get; private set; }
    /// <summary>Entries up to here are durable on this node and readable from storage.</summary>
    public long Stable { get; private set; }

    public long FirstIndex => SnapshotIndex + 1;
    public long LastIndex => unstable.Count > 0 ? unstable[^1].LastIndex : Stable;
    public long LastTerm => Term(LastIndex);

    /// <summary>Term at index; 0 for an index past the end, -1 for one compacted away (unknowable).</summary>
    public long Term(long index)
    {
        if (index == SnapshotIndex) return SnapshotTerm;
        if (index < SnapshotIndex) return -1;
        if (index > LastIndex) return 0;
        if (index > Stable) return unstable[EntrySearch.Find(unstable, index)].Term;
        return storage.Term(index);
    }

    public bool MatchTerm(long index, long term) => term >= 0 && Term(index) == term && index <= LastIndex;

    /// <summary>The election restriction: is (lastIndex, lastTerm) at least as up to date as this log?</summary>
    public bool IsUpToDate(long lastIndex, long lastTerm) =>
        lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    public void Append(in Entry entry)
    {
        Invariant.True(entry.Index == LastIndex + 1, "appended entry must follow the last one");
        Invariant.True(entry.Term >= LastTerm, "terms never decrease along a log");
        unstable.Add(entry);
    }

    /// <summary>
    /// A follower's append: if the log has (prevIndex, prevTerm), overwrite from the first conflicting entry and
    /// return the last index that came in; otherwise -1.
    /// </summary>
    public long TryAppend(long prevIndex, long prevTerm, ReadOnlySpan<Entry> incoming)
    {
        // The caller answers appends below its commit itself; everything below commit matches.
        Invariant.True(prevIndex >= Committed, "append below commit reached the log");
        if (!MatchTerm(prevIndex, prevTerm)) return -1;
        long expected = prevIndex + 1;
        for (int i = 0; i < incoming.Length; i++)
        {
            ref readonly var e = ref incoming[i];
            Invariant.True(e.Index == expected, "incoming entries must be contiguous");
            expected = e.LastIndex + 1;
            // The same index and term is the same entry: one leader wrote it, once, so also the same range, which this
            // log then holds whole (a driver whose entries could be cut differently hands them over one batch each).
            if (Term(e.Index) == e.Term)
            {
                Invariant.True(e.LastIndex <= LastIndex && Term(e.LastIndex) == e.Term, "a matching entry is held only in part");
                continue;
            }
            // A conflict (or the end): everything from here on is replaced by the leader's entries.
            Invariant.True(e.Index > Committed, "a committed entry would be overwritten");
            TruncateFrom(e.Index);
            for (int j = i; j < incoming.Length; j++) Append(incoming[j]);
            break;
        }
        return incoming.Length > 0 ? incoming[^1].LastIndex : prevIndex;
    }

    /// <summary>Drop entries from index on (an uncommitted suffix that lost to a leader's log).</summary>
    private void TruncateFrom(long index)
    {
        if (index > LastIndex) return;
        Invariant.True(index > Committed && index > SnapshotIndex, "truncation below commit");
        if (index <= Stable)
        {
            // Storage keeps the old entries until the driver overwrites them; they are past Stable, so unread.
            Stable = index - 1;
            unstable.Clear();
            return;
        }
        int at = EntrySearch.FindStart(unstable, index);
        unstable.RemoveRange(at, unstable.Count - at);
    }

    /// <summary>
    /// The largest index at or below <paramref name="index"/> whose term is at most <paramref name="term"/>; below the
    /// snapshot (SnapshotIndex - 1) when even the snapshot's term is newer. Terms never decrease along a log, so this
    /// is a binary search, and when the found index's term is below <paramref name="term"/> it is the end of that
    /// term's entries: an entry boundary.
    /// </summary>
    public long LastIndexWithTermAtMost(long index, long term)
    {
        index = Math.Min(index, LastIndex);
        if (SnapshotTerm > term) return SnapshotIndex - 1;
        long lo = SnapshotIndex, hi = index;
        while (lo < hi)
        {
            long mid = lo + (hi - lo + 1) / 2;
            if (Term(mid) <= term) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>The last index of the run of entries of <paramref name="index"/>'s term (an entry boundary).</summary>
    public long EndOfTerm(long index) => LastIndexWithTermAtMost(LastIndex, Term(index));

    /// <summary>Copies whole entries from the one starting at from, ending at or before to, at most max of them.</summary>
    public Entry[] Slice(long from, long to, int max)
    {
        if (from > to) return [];
        var list = new List<Entry>();
        CopyTo(from, to, max, list);
        return [.. list];
    }

    /// <summary>Adds whole entries from the one starting at from, ending at or before to (at most max) to into.</summary>
    public void CopyTo(long from, long to, int max, List<Entry> into)
    {
        if (from > to) return;
        Invariant.True(from >= FirstIndex && to <= LastIndex, "slice out of range");
        int before = into.Count;
        if (from <= Stable)
        {
            storage.Read(from, Math.Min(to, Stable), max, into);
            Invariant.True(into.Count > before && into[before].Index == from, "storage did not return the entry asked for");
            max -= into.Count - before;
            from = into[^1].LastIndex + 1;
        }
        if (from > Stable && from <= to && max > 0)
        {
            for (int i = EntrySearch.FindStart(unstable, from); i < unstable.Count && max > 0 && unstable[i].LastIndex <= to; i++, max--)
            {
                into.Add(unstable[i]);
            }
        }
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

    /// <summary>Durability notice: entries through (index, term) are in storage, if the log still holds them.</summary>
    public void StableTo(long index, long term)
    {
        // A suffix replaced while the write was in flight: the old bytes do not count as these.
        if (index <= Stable || Term(index) != term) return;
        int through = EntrySearch.Find(unstable, index);
        Invariant.True(unstable[through].LastIndex == index, "durable through the middle of an entry");
        unstable.RemoveRange(0, through + 1);
        Stable = index;
    }

    /// <summary>Drop the prefix through index, which the application has captured in a snapshot.</summary>
    public void CompactTo(long index)
    {
        if (index <= SnapshotIndex) return;
        Invariant.True(index <= Applied && index <= Stable, "compaction beyond applied or durable entries");
        SnapshotTerm = Term(index);
        SnapshotIndex = index;
    }

    /// <summary>Replace the whole log with a snapshot (a lagging follower installing the leader's).</summary>
    public void RestoreSnapshot(long index, long term)
    {
        Invariant.True(index > Committed, "restoring a snapshot older than the commit");
        unstable.Clear();
        SnapshotIndex = index;
        SnapshotTerm = term;
        Committed = index;
        Stable = index;
    }

    /// <summary>Rebuild after a restart from what storage holds after the snapshot.</summary>
    public void Load(long snapshotIndex, long snapshotTerm, long commit)
    {
        Invariant.True(unstable.Count == 0 && SnapshotIndex == 0 && Stable == 0, "load into an empty log only");
        SnapshotIndex = snapshotIndex;
        SnapshotTerm = snapshotTerm;
        Stable = Math.Max(storage.LastIndex, snapshotIndex);
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
