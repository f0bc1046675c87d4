using Eddy.Raft;

namespace Eddy.Raft.Simulator;

/// <summary>
/// One group's log as a disk holds it: snapshot, entries after it (in the log storage the core reads), hard state.
/// Each entry carries a chain hash of its whole prefix, which the checkers use to compare logs in O(1); a chain is
/// known only at an entry's last index, so asking for one inside an entry (a commit, snapshot or write that cuts a
/// record batch) fails the run.
/// </summary>
internal sealed class LogImage
{
    public HardState HardState;
    public SnapshotImage? Snapshot;
    public ulong SnapshotChain;
    public readonly MemoryLogStorage Log = new();
    // Parallel to Log's entries: (last index, chain) of each.
    public readonly List<(long LastIndex, ulong Chain)> Chains = new();

    public long BaseIndex => Snapshot?.Index ?? 0;
    public long LastIndex => Log.LastIndex;

    public ulong ChainAt(long index)
    {
        if (index == BaseIndex) return SnapshotChain;
        int at = FindEnd(index);
        if (at < 0) throw new InvalidOperationException($"no entry ends at {index} (base {BaseIndex}, last {LastIndex})");
        return Chains[at].Chain;
    }

    public bool EndsEntry(long index) => index == BaseIndex || FindEnd(index) >= 0;

    public long TermAt(long index) => index == BaseIndex ? Snapshot?.Term ?? 0 : Log.Term(index);

    public IEnumerable<Entry> Entries()
    {
        var all = new List<Entry>();
        Log.Read(BaseIndex + 1, LastIndex, int.MaxValue, all);
        return all;
    }

    /// <summary>The position of the entry ending at index, or -1.</summary>
    private int FindEnd(long index)
    {
        int lo = 0, hi = Chains.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long end = Chains[mid].LastIndex;
            if (end == index) return mid;
            if (end < index) lo = mid + 1;
            else hi = mid - 1;
        }
        return -1;
    }

    public void Write(ReadOnlySpan<Entry> entries, ReadOnlySpan<ulong> chains)
    {
        if (entries.Length == 0) return;
        long first = entries[0].Index;
        if (first <= BaseIndex || first > LastIndex + 1) throw new InvalidOperationException($"write at {first} leaves a gap (base {BaseIndex}, last {LastIndex})");
        int keep = first == BaseIndex + 1 ? 0 : FindEnd(first - 1) + 1;
        if (keep == 0 && first != BaseIndex + 1) throw new InvalidOperationException($"write at {first} starts inside an entry");
        Chains.RemoveRange(keep, Chains.Count - keep);
        Log.Write(entries);
        for (int i = 0; i < entries.Length; i++) Chains.Add((entries[i].LastIndex, chains[i]));
    }

    public void Install(SnapshotImage snapshot, ulong chain)
    {
        Snapshot = snapshot;
        SnapshotChain = chain;
        Log.Reset(snapshot.Index);
        Chains.Clear();
    }

    public void Compact(SnapshotImage snapshot, ulong chain)
    {
        if (snapshot.Index <= BaseIndex) return;
        int drop = FindEnd(snapshot.Index) + 1;
        if (drop == 0) throw new InvalidOperationException($"compaction at {snapshot.Index} inside an entry");
        Log.Compact(snapshot.Index);
        Chains.RemoveRange(0, drop);
        Snapshot = snapshot;
        SnapshotChain = chain;
    }

    public LogImage Clone()
    {
        var copy = new LogImage { HardState = HardState, Snapshot = Snapshot, SnapshotChain = SnapshotChain };
        copy.Log.Reset(BaseIndex);
        copy.Log.Write([.. Entries()]);
        copy.Chains.AddRange(Chains);
        return copy;
    }
}

/// <summary>
/// A disk with a write cache: writes land in Written at once and in Durable only at Sync. A crash
/// keeps Durable plus a random prefix of the unsynced writes, the last of which may be torn (a
/// prefix of its entries survives; recovery's checksum would drop the rest).
/// </summary>
internal sealed class SimDisk
{
    private abstract record Op;
    private sealed record SnapshotOp(SnapshotImage Snapshot, ulong Chain) : Op;
    private sealed record EntriesOp(Entry[] Entries, ulong[] Chains) : Op;
    private sealed record HardStateOp(HardState State) : Op;

    private readonly List<Op> unsynced = new();

    public LogImage Durable { get; private set; } = new();
    public LogImage Written { get; private set; } = new();
    public bool HasUnsynced => unsynced.Count > 0;

    public void WriteSnapshot(SnapshotImage snapshot, ulong chain) => Write(new SnapshotOp(snapshot, chain));
    public void WriteEntries(Entry[] entries, ulong[] chains) => Write(new EntriesOp(entries, chains));
    public void WriteHardState(HardState state) => Write(new HardStateOp(state));

    private void Write(Op op)
    {
        Apply(Written, op);
        unsynced.Add(op);
    }

    public void Sync()
    {
        foreach (var op in unsynced) Apply(Durable, op);
        unsynced.Clear();
    }

    /// <summary>Snapshot files are written aside and renamed into place: atomic and durable at once.</summary>
    public void Compact(SnapshotImage snapshot, ulong chain)
    {
        if (HasUnsynced) throw new InvalidOperationException("compaction with unsynced writes");
        Durable.Compact(snapshot, chain);
        Written.Compact(snapshot, chain);
    }

    public void Crash(SimRandom random, double tornChance)
    {
        int survive = random.Int(unsynced.Count + 1);
        for (int i = 0; i < survive; i++) Apply(Durable, unsynced[i]);
        if (survive < unsynced.Count && unsynced[survive] is EntriesOp torn && random.Chance(tornChance))
        {
            int keep = random.Int(torn.Entries.Length);
            Apply(Durable, new EntriesOp(torn.Entries[..keep], torn.Chains[..keep]));
        }
        unsynced.Clear();
        Written = Durable.Clone();
    }

    private static void Apply(LogImage image, Op op)
    {
        switch (op)
        {
            case SnapshotOp s: image.Install(s.Snapshot, s.Chain); break;
            case EntriesOp e: image.Write(e.Entries, e.Chains); break;
            case HardStateOp h: image.HardState = h.State; break;
        }
    }
}
