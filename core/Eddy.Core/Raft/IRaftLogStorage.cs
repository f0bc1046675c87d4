namespace Eddy.Raft;

/// <summary>
/// The durable part of a group's log, owned and written by the driver, read by the core. The driver writes each
/// Ready's Entries here (replacing the log from the first of them on) before it calls Advance, installs a Ready's
/// Snapshot in place of everything, and drops the prefix a Compact captured. The core reads only indices it knows
/// to be durable (after the snapshot, through the last entry a Ready handed out and Advance confirmed), so entries
/// written but not yet confirmed, or about to be overwritten, are never read. Reads are synchronous: a driver over
/// slow storage keeps what it serves in memory (the controller's few hundred commands, a partition's term history).
/// </summary>
public interface IRaftLogStorage
{
    /// <summary>The last index held (the snapshot's index when no entry follows it); read once, when the group
    /// starts.</summary>
    long LastIndex { get; }

    /// <summary>The term of the entry holding <paramref name="index"/>, an index after the snapshot.</summary>
    long Term(long index);

    /// <summary>Adds to <paramref name="into"/> the entries from the one that starts at <paramref name="from"/>, whole,
    /// ending at or before <paramref name="to"/>, at most <paramref name="max"/> of them.</summary>
    void Read(long from, long to, int max, List<Entry> into);
}
