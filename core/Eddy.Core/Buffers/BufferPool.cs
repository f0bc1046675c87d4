using System.Numerics;
using Eddy.Runtime;

namespace Eddy.Buffers;

/// <summary>
/// A shard's pool of page-aligned buffers in power-of-two size classes from 4 KiB to 8 MiB. Rent and local
/// return touch only the shard's own stacks; a buffer returned on another shard travels home first.
/// </summary>
public sealed class BufferPool : IDisposable
{
    public const int MinSize = AlignedBuffer.Alignment;
    public const int MaxSize = 8 << 20;

    /// <summary>Bytes kept idle per size class before returned buffers are freed instead. Default: 16 MiB.</summary>
    public const int IdleBytesPerClass = 16 << 20;

    private static readonly int ClassCount = BitOperations.Log2(MaxSize) - BitOperations.Log2(MinSize) + 1;
    private readonly Stack<AlignedBuffer>[] _free;
    private readonly Shard _shard;
    private bool _disposed;
    private AlignedBuffer? _zeros;

    internal BufferPool(Shard shard)
    {
        _shard = shard;
        _free = new Stack<AlignedBuffer>[ClassCount];
        for (int i = 0; i < _free.Length; i++)
        {
            _free[i] = new Stack<AlignedBuffer>();
        }
    }

    /// <summary>Length of <see cref="Zeros"/>: 1 MiB.</summary>
    public const int ZerosLength = 1 << 20;

    /// <summary>A buffer of zeros that nothing may write into, shared by the shard's logs as the source of the zero
    /// fills they write ahead of their data. Allocated on first use, not counted in <see cref="Outstanding"/>.</summary>
    public AlignedBuffer Zeros
    {
        get
        {
            _shard.AssertCurrent();
            if (_zeros is null)
            {
                _zeros = new AlignedBuffer(this, ZerosLength);
                _zeros.Span.Clear();
            }
            return _zeros;
        }
    }

    /// <summary>Buffers currently lent out by this pool.</summary>
    public int Outstanding { get; private set; }

    /// <summary>A buffer of at least <paramref name="minimumLength"/> bytes (rounded up to a power of two). Shard thread only.</summary>
    public AlignedBuffer Rent(int minimumLength)
    {
        _shard.AssertCurrent();
        if (minimumLength <= 0 || minimumLength > MaxSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minimumLength), minimumLength, $"buffer size must be within [1, {MaxSize}]");
        }
        int size = Math.Max(MinSize, (int)BitOperations.RoundUpToPowerOf2((uint)minimumLength));
        var stack = _free[ClassOf(size)];
        var buffer = stack.Count > 0 ? stack.Pop() : new AlignedBuffer(this, size);
        buffer.InPool = false;
        Outstanding++;
        return buffer;
    }

    internal void Return(AlignedBuffer buffer)
    {
        if (buffer.Home != this)
        {
            throw new InvalidOperationException("buffer returned to a pool it does not belong to");
        }
        if (_shard.IsCurrent)
        {
            ReturnLocal(buffer);
        }
        else
        {
            Smp.Send(_shard, buffer);
        }
    }

    internal void ReturnLocal(AlignedBuffer buffer)
    {
        if (buffer.InPool)
        {
            throw new InvalidOperationException("buffer returned twice");
        }
        Outstanding--;
        var stack = _free[ClassOf(buffer.Length)];
        if (_disposed || (long)(stack.Count + 1) * buffer.Length > IdleBytesPerClass)
        {
            buffer.Free();
            return;
        }
        buffer.InPool = true;
        stack.Push(buffer);
    }

    private static int ClassOf(int size) => BitOperations.Log2((uint)size) - BitOperations.Log2(MinSize);

    public void Dispose()
    {
        _disposed = true;
        _zeros?.Free();
        foreach (var stack in _free)
        {
            while (stack.Count > 0)
            {
                stack.Pop().Free();
            }
        }
    }
}
