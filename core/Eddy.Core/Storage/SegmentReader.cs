using System.Runtime.CompilerServices;
using Eddy.Buffers;

namespace Eddy.Storage;

/// <summary>
/// Reads whole batches from a segment with O_DIRECT: from the sparse index's position, it walks batch headers to
/// the batch that holds the wanted offset (or timestamp) and returns batches from there up to a byte limit, as a
/// view over the page-aligned buffer it read into (no copy). Never reads past the segment's checked size.
/// </summary>
public sealed class SegmentReader
{
    private const int Page = AlignedBuffer.Alignment;
    private const int MinWindow = 64 << 10;

    private readonly BufferPool _pool;
    private readonly Stack<DiskLease> _leases = new();

    public SegmentReader(BufferPool pool) => _pool = pool;

    /// <summary>Batches from the one holding <paramref name="offset"/>, up to <paramref name="maxBytes"/> (at least one
    /// whole batch, however large). Empty when the segment has nothing at or after the offset.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<LogRead> ReadAsync(Segment segment, long offset, int maxBytes)
    {
        long position = segment.Index.FindPosition(offset - segment.BaseOffset);
        var found = await WalkAsync(segment, position, offset, byTimestamp: false, MinWindow + maxBytes);
        if (found.FilePosition < 0)
        {
            return default;
        }
        var buffer = found.Buffer!;
        int skip = found.Skip;
        int length = found.Length;
        try
        {
            if (skip + found.FirstSize > length)
            {
                // The first batch is cut by the window: read again from its start, big enough for it.
                var first = buffer;
                buffer = null!;
                first.Return();
                (buffer, skip, length) = await ReadWindowAsync(segment, found.FilePosition, Math.Max(maxBytes, found.FirstSize));
            }
            int total = 0;
            long nextOffset = found.Next;
            while (skip + total + BatchHeader.LogOverhead <= length)
            {
                var batch = buffer.Span[(skip + total)..length];
                var check = BatchHeader.Check(batch, verifyCrc: false, out int size);
                if (check != BatchCheck.Ok || (total > 0 && total + size > maxBytes))
                {
                    break;
                }
                nextOffset = new BatchHeader(batch).LastOffset + 1;
                total += size;
            }
            var lease = _leases.Count > 0 ? _leases.Pop() : new DiskLease(_leases);
            lease.Buffer = buffer;
            return new LogRead(buffer.Memory.Slice(skip, total), found.FirstOffset, nextOffset, lease, fromCache: false);
        }
        catch
        {
            buffer?.Return();
            throw;
        }
    }

    /// <summary>File position, base offset and size of the batch that holds <paramref name="target"/> (an offset, or
    /// with <paramref name="byTimestamp"/> the first batch whose max timestamp is at least it); position -1 if none.</summary>
    public async ValueTask<(long Position, long BaseOffset, int Size)> FindAsync(Segment segment, long from, long target, bool byTimestamp)
    {
        var found = await WalkAsync(segment, from, target, byTimestamp, MinWindow);
        found.Buffer?.Return();
        return (found.FilePosition, found.FirstOffset, found.FirstSize);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Found> WalkAsync(Segment segment, long position, long target, bool byTimestamp, int window)
    {
        long end = segment.Size;
        while (position < end)
        {
            var (buffer, skip, length) = await ReadWindowAsync(segment, position, window);
            int at = skip;
            while (at + BatchHeader.HeaderSize <= length)
            {
                var span = buffer.Span[at..length];
                var check = BatchHeader.Check(span, verifyCrc: false, out int size);
                if (check is not (BatchCheck.Ok or BatchCheck.Incomplete))
                {
                    buffer.Return();
                    throw new LogCorruptedException($"{segment.DataPath}: batch at {position + at - skip} failed its check ({check})");
                }
                var header = new BatchHeader(span);
                if (byTimestamp ? header.MaxTimestamp >= target : header.LastOffset >= target)
                {
                    return new Found(buffer, at, length, header.LastOffset + 1, position + at - skip, header.BaseOffset, size);
                }
                at += size;
            }
            buffer.Return();
            if (at == skip)
            {
                window *= 2; // one batch bigger than the window: widen it
                if (window > BufferPool.MaxSize)
                {
                    throw new LogCorruptedException($"{segment.DataPath}: batch at {position} does not fit a read");
                }
                continue;
            }
            position += at - skip;
        }
        return new Found(null, 0, 0, 0, -1, -1, 0);
    }

    /// <summary>Reads [position, position + length) of the segment's checked data from the enclosing pages.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(AlignedBuffer Buffer, int Skip, int Length)> ReadWindowAsync(Segment segment, long position, int length)
    {
        long start = position & ~(long)(Page - 1);
        int skip = (int)(position - start);
        long end = Math.Min(segment.Size, position + length);
        int size = (int)Math.Min(BufferPool.MaxSize, (end - start + Page - 1) & ~(long)(Page - 1));
        var buffer = _pool.Rent(size);
        try
        {
            int done = 0;
            while (done < size)
            {
                int n = await segment.File.ReadAsync(buffer, done, size - done, start + done);
                if (n <= 0)
                {
                    break;
                }
                done += n;
                if (n % Page != 0)
                {
                    break;
                }
            }
            return (buffer, skip, (int)Math.Min(done, end - start));
        }
        catch
        {
            buffer.Return();
            throw;
        }
    }

    private readonly record struct Found(AlignedBuffer? Buffer, int Skip, int Length, long Next, long FilePosition, long FirstOffset, int FirstSize);

    /// <summary>Owns the buffer of a disk read until the reader is done; pooled per log.</summary>
    private sealed class DiskLease(Stack<DiskLease> home) : ReadOwner
    {
        public AlignedBuffer? Buffer { get; set; }

        public override void Release()
        {
            Buffer?.Return();
            Buffer = null;
            home.Push(this);
        }
    }
}
