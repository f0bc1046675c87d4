using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eddy.Runtime;

/// <summary>
/// A bounded, lock-free queue for exactly one producer thread and one consumer thread.
/// The producer's and the consumer's indices sit on separate cache lines (128 bytes apart, so the adjacent-line
/// prefetcher does not pair them), and each side caches the other's index so that it reads the shared line only
/// when its cached view says the queue is full (producer) or empty (consumer).
/// </summary>
public sealed class SpscQueue<T>
{
    private readonly T[] _items;
    private readonly long _mask;
    private SpscIndices _indices;

    public SpscQueue(int capacity)
    {
        if (capacity < 2 || capacity > 1 << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "capacity must be within [2, 2^30]");
        }
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)capacity);
        _items = new T[size];
        _mask = size - 1;
    }

    public int Capacity => _items.Length;

    /// <summary>Producer only. False when the queue is full: the caller keeps the item and retries later.</summary>
    public bool TryEnqueue(T item)
    {
        long tail = _indices.Tail;
        if (tail - _indices.CachedHead >= _items.Length)
        {
            _indices.CachedHead = Volatile.Read(ref _indices.Head);
            if (tail - _indices.CachedHead >= _items.Length)
            {
                return false;
            }
        }
        _items[tail & _mask] = item;
        // Release: the item is visible to the consumer before the tail that covers it.
        Volatile.Write(ref _indices.Tail, tail + 1);
        return true;
    }

    /// <summary>Consumer only.</summary>
    public bool TryDequeue(out T item)
    {
        long head = _indices.Head;
        if (head == _indices.CachedTail)
        {
            _indices.CachedTail = Volatile.Read(ref _indices.Tail);
            if (head == _indices.CachedTail)
            {
                item = default!;
                return false;
            }
        }
        ref T slot = ref _items[head & _mask];
        item = slot;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            slot = default!; // let the GC have what the consumer took
        }
        Volatile.Write(ref _indices.Head, head + 1);
        return true;
    }

    /// <summary>Either side, approximate: true when nothing is visible to the consumer right now.</summary>
    public bool IsEmpty => Volatile.Read(ref _indices.Head) == Volatile.Read(ref _indices.Tail);

    /// <summary>Either side, approximate.</summary>
    public int Count => (int)(Volatile.Read(ref _indices.Tail) - Volatile.Read(ref _indices.Head));
}

/// <summary>An SPSC queue's indices, each side on its own cache line (outside the generic type: the runtime
/// refuses explicit layout in generic types).</summary>
[StructLayout(LayoutKind.Explicit, Size = 384)]
internal struct SpscIndices
{
    // Consumer's line.
    [FieldOffset(128)] public long Head;
    [FieldOffset(136)] public long CachedTail;
    // Producer's line.
    [FieldOffset(256)] public long Tail;
    [FieldOffset(264)] public long CachedHead;
}
