using System.Runtime.CompilerServices;
using Eddy.Buffers;
using Eddy.Records;

namespace Eddy.Storage;

// How a read finds its batches in windows, and how windows grow and move on.
public sealed partial class SegmentReader
{
    /// <summary>Walks batch headers from <paramref name="position"/> to the batch holding <paramref name="target"/>.
    /// Takes over the caller's reference to <paramref name="window"/> (null for none) and returns the window that
    /// holds the batch's header; on failure it lets go of it.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Located> LocateAsync(ReadWindow? window, Segment segment, long position, long target, bool byTimestamp)
    {
        try
        {
            while (position < segment.Size)
            {
                var lent = window;
                window = null;
                var (held, ok) = await EnsureAsync(lent, segment, position, Math.Min(position + RecordBatch.HeaderSize, segment.Size), mayMove: true).ConfigureAwait(false);
                window = held;
                if (!ok || window is null)
                {
                    break;
                }
                int size = CheckedSize(window, segment, position);
                var header = new RecordBatch(window.From(position));
                if (byTimestamp ? header.MaxTimestamp >= target : header.LastOffset >= target)
                {
                    return new Located(window, position, header.BaseOffset, size);
                }
                position += size;
            }
            return new Located(window, -1, -1, 0);
        }
        catch
        {
            window?.Release();
            throw;
        }
    }

    /// <summary>Whole batches from <paramref name="first"/> up to <paramref name="maxBytes"/> (at least one), reading
    /// more blocks as they are needed. Takes over the caller's reference to <paramref name="window"/> and returns the
    /// window that holds the batches (the same, or a new one when the first batch did not fit).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Gathered> GatherAsync(ReadWindow window, Segment segment, long first, int maxBytes)
    {
        ReadWindow? holding = window;
        try
        {
            long at = first;
            int total = 0;
            long firstOffset = -1;
            long next = 0;
            while (at < segment.Size && (total == 0 || total + RecordBatch.HeaderSize <= maxBytes))
            {
                // Past the first batch the window may only grow in place: the batches returned are one run of memory.
                long headerEnd = Math.Min(at + RecordBatch.HeaderSize, segment.Size);
                if (holding.End < headerEnd)
                {
                    var lent = holding;
                    holding = null;
                    (holding, bool ok) = await EnsureAsync(lent, segment, first, headerEnd, mayMove: total == 0).ConfigureAwait(false);
                    if (!ok || holding is null)
                    {
                        break;
                    }
                }
                int size = CheckedSize(holding, segment, at);
                if (total > 0 && total + size > maxBytes)
                {
                    break;
                }
                if (holding.End < at + size)
                {
                    var lent = holding;
                    holding = null;
                    (holding, bool ok) = await EnsureAsync(lent, segment, first, at + size, mayMove: total == 0).ConfigureAwait(false);
                    if (!ok || holding is null)
                    {
                        break;
                    }
                }
                var batch = holding.From(at);
                var check = RecordBatch.Check(batch, verifyCrc: false, out _, PartitionLog.MaxBatchSize);
                if (check != BatchCheck.Ok)
                {
                    throw new LogCorruptedException($"{segment.DataPath}: batch at {at} failed its check ({check})");
                }
                var header = new RecordBatch(batch);
                if (total == 0)
                {
                    firstOffset = header.BaseOffset;
                }
                next = header.LastOffset + 1;
                total += size;
                at += size;
            }
            return new Gathered(holding, total, firstOffset, next);
        }
        catch
        {
            holding?.Release();
            throw;
        }
    }

    /// <summary>The size of the batch at <paramref name="position"/>, whose header the window holds, after the checks
    /// a walk can make without the whole batch; throws <see cref="LogCorruptedException"/> when they fail.</summary>
    private static int CheckedSize(ReadWindow window, Segment segment, long position)
    {
        var span = window.From(position);
        var check = RecordBatch.Check(span, verifyCrc: false, out int size, PartitionLog.MaxBatchSize);
        if (check is not (BatchCheck.Ok or BatchCheck.Incomplete) || span.Length < RecordBatch.HeaderSize)
        {
            throw new LogCorruptedException($"{segment.DataPath}: batch at {position} failed its check ({check})");
        }
        return size;
    }

    /// <summary>
    /// Makes a window hold the segment's bytes [<paramref name="anchor"/>, <paramref name="end"/>): grows it in place
    /// when it can, else (with <paramref name="mayMove"/>) continues in a new window that starts at the page of
    /// <paramref name="anchor"/>, with the pages the old one already has copied over. Takes over the caller's
    /// reference to <paramref name="window"/> (null for none) and returns the window to use; Held is false (and the
    /// window unchanged) when the bytes cannot be had without moving, or the segment no longer reaches them.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(ReadWindow? Window, bool Held)> EnsureAsync(ReadWindow? window, Segment segment, long anchor, long end, bool mayMove)
    {
        try
        {
            while (window is null || window.Start > anchor || window.End < end)
            {
                if (end > segment.Size)
                {
                    return (window, false); // cut meanwhile (a truncation raced this read)
                }
                if (window is not null && window.Start <= anchor && window.CanGrow && end <= window.Limit)
                {
                    if (!await GrowAsync(window, segment).ConfigureAwait(false))
                    {
                        return (window, false);
                    }
                    continue;
                }
                if (!mayMove && window is not null)
                {
                    return (window, false);
                }
                var moved = OpenWindow(segment, anchor, end, carry: window);
                if (moved != window)
                {
                    window?.Release();
                }
                window = moved;
            }
            return (window, true);
        }
        catch
        {
            window?.Release();
            throw;
        }
    }

    /// <summary>A new window for [<paramref name="anchor"/>, <paramref name="end"/>) and what follows: its buffer maps
    /// whole blocks, so that every read into it is a block-aligned <see cref="IoSize"/> read (the first may be
    /// shorter: it starts at the anchor's page). Reuses <paramref name="carry"/>'s buffer when no view holds it (the
    /// result is then <paramref name="carry"/> itself), and keeps the pages it holds from the new start on.</summary>
    private ReadWindow OpenWindow(Segment segment, long anchor, long end, ReadWindow? carry)
    {
        long start = anchor & ~(long)(Page - 1);
        long basePosition = start & ~(long)(IoSize - 1);
        long span = ((end + IoSize - 1) & ~(long)(IoSize - 1)) - basePosition;
        int size = WindowSize;
        if (span > WindowSize)
        {
            if (span <= BufferPool.MaxSize)
            {
                size = (int)span;
            }
            else
            {
                // A batch near the largest size: whole blocks would not fit one buffer, so this window maps pages.
                basePosition = start;
                size = (int)(((end + Page - 1) & ~(long)(Page - 1)) - start);
            }
        }
        // Pages the old window already holds from the new start on are copied, not read again.
        bool carries = carry is not null && carry.Segment == segment && carry.Generation == _generation && carry.Start <= start;
        long carryEnd = carries ? carry!.End : 0;
        long carried = carries ? Math.Max(start, carryEnd & ~(long)(Page - 1)) : start; // whole pages: grow from a page boundary
        ReadWindow window;
        if (carry is not null && !carry.IsShared && size <= carry.Buffer!.Length)
        {
            // No view holds the old window: go on in the same buffer, whose memory was just written (likely still in
            // cache), moving the pages kept to its front.
            var memory = carry.Buffer.Span;
            if (carried > start)
            {
                memory[(int)(start - carry.Base)..(int)(carried - carry.Base)].CopyTo(memory[(int)(start - basePosition)..]);
            }
            window = carry;
            window.Open(carry.Buffer, segment, _generation, basePosition, start);
        }
        else
        {
            window = _spare.Count > 0 ? _spare.Pop() : new ReadWindow(this, _spare);
            window.Open(_pool.Rent(size), segment, _generation, basePosition, start);
            if (carried > start)
            {
                carry!.Buffer!.Span[(int)(start - carry.Base)..(int)(carried - carry.Base)].CopyTo(window.Free.Span);
            }
        }
        if (carried > start)
        {
            window.Grew((int)(carried - start), carryEnd);
        }
        return window;
    }

    /// <summary>Reads the next block into the window: from its end to the next <see cref="IoSize"/> boundary (or the
    /// segment's last page, or the buffer's end). False when there is nothing more to read (the segment was cut
    /// meanwhile).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> GrowAsync(ReadWindow window, Segment segment)
    {
        long size = segment.Size;
        long from = window.DiskEnd;
        long to = Math.Min(Math.Min((from | (IoSize - 1)) + 1, (size + Page - 1) & ~(long)(Page - 1)), window.Limit);
        if (to <= from)
        {
            return false;
        }
        int length = (int)(to - from);
        int done = 0;
        var into = window.Buffer!;
        int at = (int)(from - window.Base);
        while (done < length)
        {
            int n = await segment.File.ReadAsync(into, at + done, length - done, from + done).ConfigureAwait(false);
            if (n <= 0)
            {
                break;
            }
            done += n;
            if (n % Page != 0)
            {
                break; // the end of the file
            }
        }
        if (done == 0)
        {
            return false;
        }
        window.Grew(done, size);
        return true;
    }

    private readonly record struct Located(ReadWindow? Window, long Position, long BaseOffset, int Size);

    private readonly record struct Gathered(ReadWindow? Window, int Bytes, long FirstOffset, long NextOffset);
}
