using Eddy.Raft;

namespace Eddy.Raft.Simulator;

/// <summary>One group on one node: its core, its disk and its (hash-only) state machine.</summary>
internal sealed class Replica
{
    public Replica(long group) => Group = group;

    public long Group { get; }
    public RaftGroup? Core;
    public readonly SimDisk Disk = new();
    public long AppliedIndex;
    public ulong StateHash;
    /// <summary>The commit index this node has already reported to the checker.</summary>
    public long KnownCommit;
    public Ready? InFlight;

    /// <summary>Snapshot payload: applied index, state hash, chain hash of the log at that index.</summary>
    public byte[] SnapshotData()
    {
        var data = new byte[24];
        BitConverter.TryWriteBytes(data.AsSpan(0), AppliedIndex);
        BitConverter.TryWriteBytes(data.AsSpan(8), StateHash);
        BitConverter.TryWriteBytes(data.AsSpan(16), Disk.Written.ChainAt(AppliedIndex));
        return data;
    }

    public static (long Applied, ulong State, ulong Chain) ReadSnapshot(byte[] data) =>
        (BitConverter.ToInt64(data, 0), BitConverter.ToUInt64(data, 8), BitConverter.ToUInt64(data, 16));
}

/// <summary>
/// A node: many groups, one clock (which may run fast or slow), one disk whose fsync covers all
/// its groups' writes, one batcher that packs all groups' messages per destination.
/// </summary>
internal sealed class SimNode
{
    public SimNode(int id, int groups)
    {
        Id = id;
        Replicas = Enumerable.Range(0, groups).Select(g => new Replica(g)).ToArray();
        Batcher = new EnvelopeBatcher(id);
    }

    public int Id { get; }
    public Replica[] Replicas { get; }
    public EnvelopeBatcher Batcher { get; }
    public bool Alive;
    public double ClockRate = 1;
    public double ClockDebt;
    public long RestartAt;
    /// <summary>When the fsync of the readies in flight completes (-1: none in flight).</summary>
    public long FsyncDue = -1;

    /// <summary>How many ticks this node's clock advances in one simulator tick.</summary>
    public int TicksThisStep()
    {
        ClockDebt += ClockRate;
        int ticks = (int)ClockDebt;
        ClockDebt -= ticks;
        return ticks;
    }
}
