using System.Runtime.CompilerServices;
using Eddy.Buffers;
using Eddy.Native;

namespace Eddy.Storage;

/// <summary>
/// Appends to the active segment with O_DIRECT. The partial last page of the file stays in a page-aligned
/// staging buffer; an append copies its batches after it, patches the leader-assigned fields in the copy (never
/// in the caller's memory), zero-fills to the page boundary and writes from the start of that page, so each
/// append is one aligned write. Space is reserved ahead with fallocate in large steps, and zeros are written a
/// little ahead of the data (<see cref="LogOptions.ZeroFillBytes"/>) so that appends overwrite blocks that are
/// already written and inside the file size: such a write completes without a kernel worker thread, and the
/// fdatasync after it has no file metadata to write. If the write fails nothing moves: the tail page is still at
/// the start of the buffer and the segment's size is unchanged, so the failed bytes are never visible and the next
/// append overwrites them.
/// </summary>
public sealed class TailWriter : IDisposable
{
    private const int Page = AlignedBuffer.Alignment;

    // Zeros are written ahead only for writes smaller than this. A write into new space costs about the same fixed
    // amount whatever its size (a kernel worker, a metadata write at the fdatasync), while the zeros cost their
    // bytes: measured on a virtio disk, 16 KiB appends gain from the fill and 1 MiB appends lose a third of their
    // throughput to it (bench/RESULTS.md, "Zero fill").
    private const int FillBelowWriteBytes = 64 << 10;

    private const int MinFillBytes = 64 << 10;

    private readonly BufferPool _pool;
    private readonly long _preallocate;
    private readonly int _maxFillBytes;
    private AlignedBuffer _staging;
    private Segment? _segment;
    private int _tailLength;
    private int _writtenEnd = -1;
    private long _allocatedEnd;

    // The file's bytes below _writtenSpaceEnd are written (data, padding or zeros) and inside its size. One zero
    // fill at a time runs from _fillStart; an append reaching into it waits for it, so the two never overlap.
    private long _writtenSpaceEnd;
    private long _fillStart;
    private bool _filling;
    private bool _fillFailed;
    private ValueTask _fill;

    public TailWriter(BufferPool pool, long preallocateBytes, int zeroFillBytes)
    {
        _pool = pool;
        _preallocate = Math.Max(Page, preallocateBytes);
        // Never more than the preallocation (which topics cap at segment.bytes): a small segment gets a small fill.
        _maxFillBytes = (int)Math.Min(Math.Min(zeroFillBytes, _preallocate), BufferPool.ZerosLength) & ~(Page - 1);
        _staging = pool.Rent(256 << 10);
    }

    /// <summary>The staged batches of the last write, as written (valid until the next <see cref="Stage"/>): the
    /// log indexes and caches them from here once the write succeeded.</summary>
    public ReadOnlySpan<byte> Staged => _staging.Span.Slice(_tailLength, StagedLength);

    public int StagedLength { get; private set; }

    /// <summary>Points the writer at a segment, loading its partial last page from disk.</summary>
    public async ValueTask AttachAsync(Segment segment)
    {
        if (_filling)
        {
            throw new InvalidOperationException("a zero fill is still running on the previous segment: SettleAsync first");
        }
        _segment = segment;
        _tailLength = (int)(segment.Size % Page);
        _writtenEnd = -1;
        _allocatedEnd = 0;
        _writtenSpaceEnd = segment.File.Size;
        _fillFailed = false;
        StagedLength = 0;
        if (_tailLength > 0)
        {
            int n = await segment.File.ReadAsync(_staging, 0, Page, segment.Size - _tailLength);
            if (n < _tailLength)
            {
                throw new StorageException($"{segment.DataPath}: read {n} bytes of the last page, expected {_tailLength}");
            }
        }
    }

    public void Detach()
    {
        if (_filling)
        {
            throw new InvalidOperationException("a zero fill is still running: SettleAsync first");
        }
        _segment = null;
    }

    /// <summary>Waits for a zero fill in flight: before the file is cut, closed or left for another segment.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SettleAsync()
    {
        if (_filling)
        {
            _filling = false;
            await _fill.ConfigureAwait(false);
        }
    }

    /// <summary>Copies <paramref name="batches"/> after the tail page and returns the copy for patching.</summary>
    public Span<byte> Stage(ReadOnlySpan<byte> batches)
    {
        if (_writtenEnd >= 0)
        {
            // The last write succeeded: its partial last page becomes the new tail, moved to the buffer's start.
            int newTail = _writtenEnd % Page;
            if (newTail > 0 && _writtenEnd > Page)
            {
                _staging.Span.Slice(_writtenEnd - newTail, newTail).CopyTo(_staging.Span);
            }
            _tailLength = newTail;
            _writtenEnd = -1;
        }
        StagedLength = 0;
        return StageMore(batches);
    }

    /// <summary>Copies <paramref name="batches"/> after those staged since <see cref="Stage"/>, so that one write
    /// carries several appends; returns the copy for patching (copies returned before may move: patch them first).</summary>
    public Span<byte> StageMore(ReadOnlySpan<byte> batches)
    {
        int at = _tailLength + StagedLength;
        int need = at + batches.Length + Page;
        if (need > _staging.Length)
        {
            var bigger = _pool.Rent(need);
            _staging.Span[..at].CopyTo(bigger.Span);
            _staging.Return();
            _staging = bigger;
        }
        var copy = _staging.Span.Slice(at, batches.Length);
        batches.CopyTo(copy);
        StagedLength += batches.Length;
        return copy;
    }

    /// <summary>Writes the staged bytes (the log makes them durable by group commit); on success the segment grows by
    /// them. Throws <see cref="NativeException"/> with the kernel's errno on failure, leaving everything as it was.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteStagedAsync()
    {
        var segment = _segment ?? throw new InvalidOperationException("no active segment");
        int used = _tailLength + StagedLength;
        int writeLength = (used + Page - 1) & ~(Page - 1);
        _staging.Span[used..writeLength].Clear();
        long pageStart = segment.Size - _tailLength;
        if (pageStart + writeLength > _allocatedEnd)
        {
            await ReserveAsync(segment, pageStart + writeLength).ConfigureAwait(false);
        }
        if (_filling && pageStart + writeLength > _fillStart)
        {
            await SettleAsync().ConfigureAwait(false); // never write data where zeros are still landing
        }
        // Shard-owned awaitables complete on this shard: resuming inline is the same thread and skips a post.
        await segment.File.WriteAsync(_staging, 0, writeLength, pageStart, dataSync: false).ConfigureAwait(false);
        segment.Size += StagedLength;
        _writtenEnd = used; // the tail moves on at the next Stage, so Staged stays readable until then
        _writtenSpaceEnd = Math.Max(_writtenSpaceEnd, pageStart + writeLength);
        if (writeLength < FillBelowWriteBytes)
        {
            FillAhead(segment.File, pageStart + writeLength);
        }
    }

    // Starts writing the next chunk of zeros once less than half a chunk of written space is left after the data. A
    // chunk is as large as the data already in the segment, from 64 KiB up to ZeroFillBytes, so that a partition that
    // sees little traffic writes few zeros. The fill costs kernel workers and a metadata write at the next fdatasync,
    // but once per chunk instead of once per append. It moves the file size first (fallocate) and then writes inside
    // it: a write past the size would hold the inode lock for the whole write, and every append meanwhile would
    // wait for it in a kernel worker.
    private void FillAhead(IStorageFile file, long dataEnd)
    {
        int chunk = (int)Math.Min(Math.Max(dataEnd, MinFillBytes), _maxFillBytes) & ~(Page - 1);
        if (chunk == 0 || _fillFailed || _writtenSpaceEnd - dataEnd >= chunk / 2)
        {
            return;
        }
        if (_filling)
        {
            if (!_fill.IsCompleted)
            {
                return;
            }
            _filling = false;
            _fill.GetAwaiter().GetResult();
        }
        _fillStart = Math.Max((_writtenSpaceEnd + Page - 1) & ~(long)(Page - 1), dataEnd);
        _filling = true;
#pragma warning disable CA2012 // consumed exactly once: by the append that reaches it, the next fill or SettleAsync
        _fill = FillAsync(file, _fillStart, chunk);
#pragma warning restore CA2012
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync(IStorageFile file, long start, int length)
    {
        try
        {
            await file.AllocateAsync(start, length, extendSize: true).ConfigureAwait(false);
            await file.WriteAsync(_pool.Zeros, 0, length, start, dataSync: false).ConfigureAwait(false);
            _writtenSpaceEnd = Math.Max(_writtenSpaceEnd, start + length);
        }
        catch (NativeException)
        {
            // A full disk, a filesystem without fallocate or a failing device: appends go on as extending writes and
            // meet the error themselves, where it is reported. Filling stops for this segment.
            _fillFailed = true;
        }
    }

    // Reserves in large steps so that the filesystem keeps the segment contiguous and appends rarely allocate.
    // When the big step does not fit, falls back to exactly what this write needs; when even that fails the
    // append fails with ENOSPC before a byte is written.
    // Pooled like every method awaited with ConfigureAwait(false): a plain async ValueTask is Task-backed, and a
    // Task continuation without the context is sent to the thread pool from a shard (docs/runtime.md).
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReserveAsync(Segment segment, long end)
    {
        long from = Math.Max(_allocatedEnd, segment.Size - _tailLength);
        try
        {
            await segment.File.AllocateAsync(from, Math.Max(end - from, _preallocate), extendSize: false);
            _allocatedEnd = from + Math.Max(end - from, _preallocate);
        }
        catch (NativeException e) when (e.Errno == Errno.ENOSPC)
        {
            await segment.File.AllocateAsync(from, end - from, extendSize: false);
            _allocatedEnd = end;
        }
        catch (NativeException e) when (e.Errno == Errno.EOPNOTSUPP)
        {
            _allocatedEnd = long.MaxValue; // the filesystem cannot reserve: writes allocate as they go
        }
    }

    public void Dispose()
    {
        _staging.Return();
    }
}
