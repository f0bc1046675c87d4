using Eddy.Buffers;

namespace Eddy.Storage;

/// <summary>
/// Fault injection for tests of the whole binary (`test_lose_unsynced_writes`): each file's writes, truncations and
/// allocations are held in the process's memory until the file's next fdatasync, as a disk with a volatile write cache
/// holds them, and reach the file only then. Reads see them meanwhile. So a SIGKILL loses exactly what a power cut
/// may lose (every write not yet made durable), which on its own a killed process never does: the kernel keeps what
/// it wrote. Creating, renaming and deleting files, and the directory fsyncs that make those durable, are not held.
/// Slow and memory-hungry by design (a copy of every unsynced write); never for production.
/// </summary>
public sealed class VolatileWriteCache : IStorageFile
{
    /// <summary>Whether files opened from now on hold their writes until fdatasync; set once, before any storage opens.</summary>
    public static bool Enabled { get; set; }

    private readonly IStorageFile _file;
    // Held operations in the order made; an fdatasync moves them to _applying while it writes them to the file.
    private List<Held> _held = new();
    private List<Held> _applying = new();
    private long _size;
    private Task _lastSync = Task.CompletedTask;

    public VolatileWriteCache(IStorageFile file)
    {
        _file = file;
        _size = file.Size;
    }

    public string Path => _file.Path;

    public long Size => _size;

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset)
    {
        int read = await _file.ReadAsync(buffer, bufferOffset, length, fileOffset);
        var span = buffer.Span.Slice(bufferOffset, length);
        span[read..].Clear(); // what only held writes or allocations reach reads as zeros until they land
        foreach (var held in _applying)
        {
            held.ApplyTo(span, fileOffset);
        }
        foreach (var held in _held)
        {
            held.ApplyTo(span, fileOffset);
        }
        return (int)Math.Clamp(_size - fileOffset, 0, length);
    }

    public ValueTask WriteAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset, bool dataSync)
    {
        _held.Add(new Held(HeldKind.Write, fileOffset, buffer.Span.Slice(bufferOffset, length).ToArray(), false));
        _size = Math.Max(_size, fileOffset + length);
        return dataSync ? FlushDataAsync() : ValueTask.CompletedTask;
    }

    public ValueTask AllocateAsync(long offset, long length, bool extendSize)
    {
        _held.Add(new Held(HeldKind.Allocate, offset, null, extendSize, length));
        if (extendSize)
        {
            _size = Math.Max(_size, offset + length);
        }
        return ValueTask.CompletedTask;
    }

    public void Truncate(long length)
    {
        _held.Add(new Held(HeldKind.Truncate, length, null, false));
        _size = length;
    }

    /// <summary>Writes what is held, in order, then fdatasyncs: what was made before this call is durable when it
    /// completes. One at a time, so two syncs never interleave their writes.</summary>
    public ValueTask FlushDataAsync()
    {
        var previous = _lastSync;
        var done = new TaskCompletionSource();
        _lastSync = done.Task;
        return SyncAfterAsync(previous, done);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SyncAfterAsync(Task previous, TaskCompletionSource done)
    {
        try
        {
            await previous;
            (_applying, _held) = (_held, _applying);
            foreach (var held in _applying)
            {
                await held.ApplyToAsync(_file);
            }
            _applying.Clear();
            await _file.FlushDataAsync();
            done.SetResult();
        }
        catch (Exception e)
        {
            done.SetException(e);
            throw;
        }
    }

    /// <summary>What is still held is lost, as a crash would lose it.</summary>
    public void Dispose() => _file.Dispose();

    private enum HeldKind : byte { Write, Allocate, Truncate }

    private sealed record Held(HeldKind Kind, long Offset, byte[]? Data, bool ExtendSize, long Length = 0)
    {
        /// <summary>Its effect on <paramref name="span"/>, which holds the file from <paramref name="fileOffset"/>.</summary>
        public void ApplyTo(Span<byte> span, long fileOffset)
        {
            switch (Kind)
            {
                case HeldKind.Write:
                    long from = Math.Max(Offset, fileOffset);
                    long to = Math.Min(Offset + Data!.Length, fileOffset + span.Length);
                    if (from < to)
                    {
                        Data.AsSpan((int)(from - Offset), (int)(to - from)).CopyTo(span[(int)(from - fileOffset)..]);
                    }
                    break;
                case HeldKind.Truncate when Offset < fileOffset + span.Length:
                    span[(int)Math.Max(0, Offset - fileOffset)..].Clear();
                    break;
            }
        }

        public async ValueTask ApplyToAsync(IStorageFile file)
        {
            switch (Kind)
            {
                case HeldKind.Write:
                    var buffer = Runtime.Shard.Current!.Buffers.Rent(Data!.Length);
                    try
                    {
                        Data.CopyTo(buffer.Span);
                        await file.WriteAsync(buffer, 0, Data.Length, Offset, dataSync: false);
                    }
                    finally
                    {
                        buffer.Return();
                    }
                    break;
                case HeldKind.Allocate:
                    await file.AllocateAsync(Offset, Length, ExtendSize);
                    break;
                case HeldKind.Truncate:
                    file.Truncate(Offset);
                    break;
            }
        }
    }
}
