using System.Runtime.InteropServices;
using static Eddy.Native.IoUring.IoUringConstants;

namespace Eddy.Native.IoUring;

/// <summary>
/// A provided-buffer ring (IORING_REGISTER_PBUF_RING): a pool of equal receive buffers from which the kernel
/// picks one per multishot RECV completion. The owner hands a buffer back with <see cref="Recycle"/> once
/// its bytes have been consumed. Owns its native memory; used only on its ring's thread.
/// </summary>
public sealed unsafe class ProvidedBufferRing : IDisposable
{
    private readonly IoUringRing _ring;
    private readonly RingBuf* _entries;
    private readonly byte* _buffers;
    private readonly uint _mask;
    private ushort _tail;
    private bool _disposed;

    public ProvidedBufferRing(IoUringRing ring, ushort groupId, ushort count, int bufferSize)
    {
        if (count == 0 || (count & (count - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "a provided-buffer ring holds a power of two of buffers");
        }
        _ring = ring;
        GroupId = groupId;
        Count = count;
        BufferSize = bufferSize;
        _mask = (uint)count - 1;
        _entries = (RingBuf*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(RingBuf)), 4096);
        NativeMemory.Clear(_entries, (nuint)(count * sizeof(RingBuf)));
        _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)count * (nuint)bufferSize, 4096);
        BufReg reg = default;
        reg.RingAddr = (ulong)_entries;
        reg.RingEntries = count;
        reg.Bgid = groupId;
        try
        {
            ring.Register(RegisterPbufRing, &reg, 1, "io_uring_register(PBUF_RING)");
        }
        catch
        {
            NativeMemory.AlignedFree(_entries);
            NativeMemory.AlignedFree(_buffers);
            throw;
        }
        for (ushort id = 0; id < count; id++)
        {
            Recycle(id);
        }
    }

    public ushort GroupId { get; }
    public ushort Count { get; }
    public int BufferSize { get; }

    /// <summary>The bytes of buffer <paramref name="bufferId"/>.</summary>
    public Span<byte> Buffer(ushort bufferId, int length)
    {
        if (bufferId >= Count || (uint)length > (uint)BufferSize)
        {
            throw new ArgumentOutOfRangeException(nameof(bufferId));
        }
        return new Span<byte>(_buffers + (nint)bufferId * BufferSize, length);
    }

    /// <summary>Returns a buffer to the kernel.</summary>
    public void Recycle(ushort bufferId)
    {
        RingBuf* e = &_entries[_tail & _mask];
        e->Addr = (ulong)(_buffers + (nint)bufferId * BufferSize);
        e->Len = (uint)BufferSize;
        e->Bid = bufferId;
        _tail++;
        // The tail lives in the Resv field of entry 0; release so the entry is written before it is published.
        Volatile.Write(ref ((RingBuf*)_entries)->Resv, _tail);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        BufReg reg = default;
        reg.Bgid = GroupId;
        try
        {
            _ring.Register(UnregisterPbufRing, &reg, 1, "io_uring_register(UNREGISTER_PBUF_RING)");
        }
        catch (NativeException)
        {
            // The ring may already be closed; the memory is ours to free either way.
        }
        NativeMemory.AlignedFree(_entries);
        NativeMemory.AlignedFree(_buffers);
    }
}
