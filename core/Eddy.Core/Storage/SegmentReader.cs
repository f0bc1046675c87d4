using System.Runtime.CompilerServices;
using Eddy.Buffers;

namespace Eddy.Storage;

/// <summary>
/// Reads whole batches from one log's segments with O_DIRECT and returns them as views over the page-aligned buffer
/// they were read into (no copy). Disk reads go into windows (<see cref="ReadWindow"/>) of a few MiB that grow one
/// <see cref="IoSize"/> block at a time, each read aligned to the block size and starting where the last ended, so a
/// sequential consumer reads every byte of the segment once, in the same requests as a plain sequential read of the
/// file. Between reads the reader keeps up to <see cref="MaxKept"/> windows (one per consumer reading through the
/// log), remembering where the last read from each ended, so the next one needs neither the index nor a header walk;
/// the memory kept is bounded per shard (<see cref="ReadWindowBudget"/>). When a window is full, the pages the
/// unfinished batch already has (less than a block) are copied to the front of the next one, not read again; and
/// when no view still holds the full window, the next one is the same buffer, so consecutive reads land in memory
/// that was just used (docs/storage.md, "Reads from disk"). Owned by the log's shard.
/// </summary>
public sealed partial class SegmentReader : IDisposable
{
    /// <summary>Bytes per disk read; reads are aligned to it in the file.</summary>
    public const int IoSize = 1 << 20;

    /// <summary>Bytes of a window's buffer (larger only for a batch that needs it).</summary>
    public const int WindowSize = 4 << 20;

    /// <summary>Windows kept between reads, per log: consumers at different places each keep theirs.</summary>
    public const int MaxKept = 4;

    private const int Page = AlignedBuffer.Alignment;

    private readonly BufferPool _pool;
    private readonly ReadWindowBudget _budget;
    private readonly ReadWindow?[] _kept = new ReadWindow?[MaxKept];
    private readonly Stack<ReadWindow> _spare = new();
    private int _generation;
    private long _uses;
    private bool _disposed;

    /// <summary>Created on the log's shard; <paramref name="budget"/> is that shard's (<see cref="ShardStorage"/>).</summary>
    internal SegmentReader(BufferPool pool, ReadWindowBudget budget)
    {
        _pool = pool;
        _budget = budget;
    }

    /// <summary>Batches from the one holding <paramref name="offset"/>, up to <paramref name="maxBytes"/> (at least one
    /// whole batch, however large). Empty when the segment has nothing at or after the offset.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<LogRead> ReadAsync(Segment segment, long offset, int maxBytes)
    {
        long position = segment.Index.FindPosition(offset - segment.BaseOffset);
        var window = Take(segment, offset, ref position, out bool atBatch);
        try
        {
            if (!atBatch)
            {
                var lent = window;
                window = null;
                var found = await LocateAsync(lent, segment, position, offset, byTimestamp: false).ConfigureAwait(false);
                window = found.Window;
                position = found.Position;
            }
            if (window is null || position < 0 || position >= segment.Size)
            {
                return default;
            }
            var gathering = window;
            window = null;
            var gathered = await GatherAsync(gathering, segment, position, maxBytes).ConfigureAwait(false);
            window = gathered.Window;
            if (window is null || gathered.Bytes == 0)
            {
                return default;
            }
            window.NextOffset = gathered.NextOffset;
            window.NextPosition = position + gathered.Bytes;
            window.AddRef(); // the view's
            return new LogRead(window.Slice(position, gathered.Bytes), gathered.FirstOffset, gathered.NextOffset, window, fromCache: false);
        }
        finally
        {
            Keep(window);
        }
    }

    /// <summary>File position, base offset and size of the batch that holds <paramref name="target"/> (an offset, or
    /// with <paramref name="byTimestamp"/> the first batch whose max timestamp is at least it), walking from
    /// <paramref name="from"/>, a batch start; position -1 if none.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(long Position, long BaseOffset, int Size)> FindAsync(Segment segment, long from, long target, bool byTimestamp)
    {
        var window = Take(segment, -1, ref from, out _);
        var found = await LocateAsync(window, segment, from, target, byTimestamp).ConfigureAwait(false);
        Keep(found.Window);
        return (found.Position, found.BaseOffset, found.Size);
    }

    /// <summary>Drops every kept window: the log's files changed under them (a truncation).</summary>
    public void Invalidate()
    {
        _generation++;
        DropWhere(null);
    }

    /// <summary>Drops the windows kept for <paramref name="segment"/> (retired: no read will come back to it).</summary>
    public void Forget(Segment segment) => DropWhere(segment);

    public void Dispose()
    {
        _disposed = true;
        DropWhere(null);
    }

    /// <summary>Stops keeping <paramref name="window"/> (the shard's window budget is over, or a slot is needed).</summary>
    internal void Drop(ReadWindow window)
    {
        int i = Array.IndexOf(_kept, window);
        _kept[i] = null;
        _budget.Forget(window);
        window.Release();
    }

    private void DropWhere(Segment? segment)
    {
        foreach (var window in _kept)
        {
            if (window is not null && (segment is null || window.Segment == segment))
            {
                Drop(window);
            }
        }
    }

    /// <summary>A kept window for this read, taken out of the kept set while the read uses it: one whose last read
    /// ended at <paramref name="offset"/> (then <paramref name="position"/> becomes that batch's position and
    /// <paramref name="atBatch"/> is true), else one holding <paramref name="position"/>; null if none.</summary>
    private ReadWindow? Take(Segment segment, long offset, ref long position, out bool atBatch)
    {
        atBatch = false;
        int match = -1;
        for (int i = 0; i < _kept.Length; i++)
        {
            var window = _kept[i];
            if (window is null || window.Segment != segment)
            {
                continue;
            }
            if (offset >= 0 && window.NextOffset == offset)
            {
                match = i;
                atBatch = true;
                break;
            }
            if (match < 0 && window.Start <= position && position < window.End)
            {
                match = i;
            }
        }
        if (match < 0)
        {
            return null;
        }
        var taken = _kept[match]!;
        _kept[match] = null;
        _budget.Forget(taken);
        if (atBatch)
        {
            position = taken.NextPosition;
        }
        return taken;
    }

    /// <summary>Keeps a window after a read for the next one, unless it is stale. A window used up still serves: it
    /// says where the next read starts, which then continues (block-aligned) in a new window.</summary>
    private void Keep(ReadWindow? window)
    {
        if (window is null)
        {
            return;
        }
        if (_disposed || window.Generation != _generation)
        {
            window.Release();
            return;
        }
        int slot = Array.IndexOf(_kept, null);
        if (slot < 0)
        {
            slot = 0;
            for (int i = 1; i < _kept.Length; i++)
            {
                if (_kept[i]!.LastUse < _kept[slot]!.LastUse)
                {
                    slot = i;
                }
            }
            Drop(_kept[slot]!);
        }
        window.LastUse = ++_uses;
        _kept[slot] = window;
        _budget.Keep(window);
    }
}
