using System.Buffers;

namespace Eddy.Raft.Driver;

// Leases: a peer's append arrives with its entries in one pooled array (GroupMessage.Lease), and a leader's proposal is
// copied into one; each goes back to the pool once nothing refers to its entries: when every index it covers is
// durable, the core keeps none of them in memory (it holds only entries past Stable, and a Ready's own are written and
// sent before Advance; appends of durable entries are read back from the log).
public sealed partial class PartitionRaft
{
    /// <summary>Leases held at once; past it the oldest is left to the GC (an append the core refused, whose indices
    /// this log may never reach, must not hold the rest).</summary>
    private const int MaxLeases = 1024;

    private readonly List<(byte[] Lease, long LastIndex)> _leases = new();

    private void Hold(byte[]? lease, long lastIndex)
    {
        if (lease is null)
        {
            return;
        }
        if (_leases.Count == MaxLeases)
        {
            _leases.RemoveAt(0);
        }
        _leases.Add((lease, lastIndex));
    }

    private static void GiveBack(byte[]? lease)
    {
        if (lease is not null)
        {
            ArrayPool<byte>.Shared.Return(lease);
        }
    }

    /// <summary>After Advance: gives back the leases whose entries are all durable, or were replaced.</summary>
    private void GiveBackWritten()
    {
        long stable = _raft.Log.Stable;
        for (int i = _leases.Count - 1; i >= 0; i--)
        {
            if (_leases[i].LastIndex <= stable)
            {
                GiveBack(_leases[i].Lease);
                _leases.RemoveAt(i);
            }
        }
    }
}
