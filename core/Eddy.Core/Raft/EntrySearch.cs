namespace Eddy.Raft;

/// <summary>Finds the entry holding an index in a contiguous run of entries (each covering a range of indices).</summary>
internal static class EntrySearch
{
    /// <summary>The position of the entry holding <paramref name="index"/>; the run must hold it.</summary>
    public static int Find(List<Entry> entries, long index)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries);
        Invariant.True(span.Length > 0 && index >= span[0].Index && index <= span[^1].LastIndex, "index outside the entries");
        int lo = 0, hi = span.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (span[mid].Index <= index) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>The position of the entry that starts at <paramref name="index"/>: the log is cut only between
    /// entries, so anything else is a broken invariant.</summary>
    public static int FindStart(List<Entry> entries, long index)
    {
        int at = Find(entries, index);
        Invariant.True(entries[at].Index == index, "the log is cut inside an entry");
        return at;
    }
}
