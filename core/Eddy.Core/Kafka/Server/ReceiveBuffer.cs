using System.Buffers;

namespace Eddy.Kafka.Server;

/// <summary>
/// A connection's receive buffer, rented from <see cref="ArrayPool{T}"/>, counted while requests decoded from it
/// are in flight: their fields (records included) are slices of it, so it may neither move its bytes nor go back
/// to the pool until the last of them is answered. One shard only, so the count needs no atomics.
/// </summary>
internal sealed class ReceiveBuffer
{
    private int _users = 1; // the connection itself, until it moves to another buffer

    public ReceiveBuffer(int size) => Array = ArrayPool<byte>.Shared.Rent(size);

    public byte[] Array { get; }

    /// <summary>True while a request still reads from the buffer.</summary>
    public bool InUse => _users > 1;

    public void Acquire() => _users++;

    /// <summary>Drops one user; the last one returns the array to the pool.</summary>
    public void Release()
    {
        if (--_users == 0)
        {
            ArrayPool<byte>.Shared.Return(Array);
        }
    }
}
