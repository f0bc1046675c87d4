using System.Buffers;
using System.Runtime.InteropServices;
using Eddy.Runtime;

namespace Eddy.Buffers;

/// <summary>
/// A page-aligned block of native memory, as direct I/O needs. Owned by the pool of the shard that allocated
/// it; returning it from another shard sends it home through the SPSC mesh.
/// </summary>
public sealed unsafe class AlignedBuffer : MemoryManager<byte>, ISmpMessage
{
    /// <summary>Alignment of every buffer: one page, which satisfies O_DIRECT on every filesystem Eddy supports.</summary>
    public const int Alignment = 4096;

    private byte* _pointer;

    internal AlignedBuffer(BufferPool home, int length)
    {
        Home = home;
        Length = length;
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, Alignment);
    }

    public int Length { get; }

    /// <summary>Where the memory starts; stable for the buffer's life (native memory never moves).</summary>
    public nint Address => (nint)_pointer;

    /// <summary>Index in the io_uring's registered buffers, or -1 when not registered.</summary>
    public int RegisteredIndex { get; internal set; } = -1;

    internal BufferPool Home { get; }

    internal bool InPool { get; set; }

    public Span<byte> Span => new(_pointer, Length);

    public override Span<byte> GetSpan() => new(_pointer, Length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    public override void Unpin()
    {
    }

    /// <summary>Hands the buffer back to its pool (from any shard).</summary>
    public void Return() => Home.Return(this);

    void ISmpMessage.Run(Shard here) => Home.ReturnLocal(this);

    internal void Free()
    {
        if (_pointer != null)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }

    protected override void Dispose(bool disposing) => Free();
}
