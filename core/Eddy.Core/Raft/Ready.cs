namespace Eddy.Raft;

/// <summary>
/// One batch of work for the driver, in this order: install Snapshot (if any), write Entries to the
/// log storage (overwriting the log from Entries[0].Index on) and HardState, fsync; then send Messages, apply
/// CommittedEntries, answer ReadStates, and call Advance. The lists belong to the group and are
/// reused: they are valid until Advance.
/// </summary>
public sealed class Ready
{
    public SnapshotImage? Snapshot { get; internal set; }
    public List<Entry> Entries { get; } = new();
    public bool HasHardState { get; internal set; }
    public HardState HardState { get; internal set; }
    /// <summary>Safe to send only once everything above is durable (votes and acks promise it).</summary>
    public List<Message> Messages { get; internal set; } = new();
    public List<Entry> CommittedEntries { get; } = new();
    public List<ReadState> ReadStates { get; internal set; } = new();
    public Role Role { get; internal set; }
    public int Leader { get; internal set; }
    public long Term { get; internal set; }

    // What Advance needs to know about this batch.
    internal long PersistIndex;
    internal long PersistTerm;

    internal void Clear()
    {
        Snapshot = null;
        Entries.Clear();
        HasHardState = false;
        Messages.Clear();
        CommittedEntries.Clear();
        ReadStates.Clear();
        PersistIndex = 0;
        PersistTerm = 0;
    }
}

/// <summary>What a restarting node read back from its disk besides the entries, which its
/// <see cref="IRaftLogStorage"/> holds.</summary>
public sealed class PersistedState
{
    public PersistedState(HardState hardState, SnapshotImage? snapshot)
    {
        HardState = hardState;
        Snapshot = snapshot;
    }

    public HardState HardState { get; }
    public SnapshotImage? Snapshot { get; }
}
