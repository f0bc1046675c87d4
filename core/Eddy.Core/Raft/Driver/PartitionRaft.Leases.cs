using System.Buffers;

namespace Eddy.Raft.Driver;

// Leases: a peer's append arrives with its entries in one pooled array (GroupMessage.Lease), and a leader's proposal is
// copied into one; each goes back to the pool once nothing refers to its entries. Once every index it covers is
// durable (at an Advance), the core's log holds none of them in memory (only entries past Stable), and appends made
// from then on read durable entries back from storage; but an append the core made earlier may still wait in its
// outbox for the next Ready, which sends it before its own Advance. So a lease goes back one Advance later.
public sealed partial class PartitionRaft
{
    /// <summary>Leases held at once; past it the oldest is left to the GC (an append the core refused, whose indices
    /// this log may never reach, must not hold the rest).</summary>
    private const int MaxLeases = 1024;

    // DurableAt: the Advance (counted) at which every index the lease covers was durable, or 0 while some is not.
    private readonly List<(byte[] Lease, long LastIndex, long DurableAt)> _leases = new();
    private long _advances;

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
        _leases.Add((lease, lastIndex, 0));
    }

    private static void GiveBack(byte[]? lease)
    {
        if (lease is not null)
        {
            ArrayPool<byte>.Shared.Return(lease);
        }
    }

    /// <summary>After Advance: notes the leases whose entries are now all durable (or were replaced), and gives back those
    /// noted at an Advance before this one, so that every append made from them has left.</summary>
    private void GiveBackWritten()
    {
        _advances++;
        long stable = _raft.Log.Stable;
        for (int i = _leases.Count - 1; i >= 0; i--)
        {
            var (lease, lastIndex, durableAt) = _leases[i];
            if (durableAt != 0 && durableAt < _advances)
            {
                GiveBack(lease);
                _leases.RemoveAt(i);
            }
            else if (durableAt == 0 && lastIndex <= stable)
            {
                _leases[i] = (lease, lastIndex, _advances);
            }
        }
    }
}
