using Eddy.Buffers;
using Eddy.Records;

namespace Eddy.Storage;

/// <summary>What scanning a segment's data found.</summary>
public sealed class ScanResult
{
    /// <summary>Bytes of valid batches from the start, in offset order.</summary>
    public long ValidSize { get; init; }

    public long NextOffset { get; init; }

    public int ValidBatches { get; init; }

    public required SegmentIndex Index { get; init; }

    public long FileSize { get; init; }

    /// <summary>Why the scan stopped before the end of the file (Ok when it reached the end or zero padding).</summary>
    public BatchCheck Damage { get; init; }

    /// <summary>Non-zero bytes after <see cref="ValidSize"/>: something was dropped, not just padding.</summary>
    public long DroppedBytes { get; init; }

    /// <summary>A complete, valid batch exists after the damage: the damage is not a torn tail.</summary>
    public long ValidBatchAfterDamageAt { get; init; } = -1;
}

/// <summary>
/// Reads a segment from the start, batch by batch, checking length bounds, magic, CRC-32C and that offsets
/// follow on from the segment's base offset; builds the sparse index on the way. Used by recovery (the last
/// segment, or any segment whose index is missing or stale). Reads whole chunks with O_DIRECT.
/// </summary>
public static class SegmentScanner
{
    private const int Page = AlignedBuffer.Alignment;
    private const int Chunk = 4 << 20;

    public static async ValueTask<ScanResult> ScanAsync(IStorageFile file, long baseOffset, int indexInterval, BufferPool pool)
    {
        long fileSize = file.Size;
        var index = new SegmentIndex((int)Math.Min(fileSize / Math.Max(indexInterval, 1) + 16, 1 << 16));
        var buffer = pool.Rent(Chunk);
        try
        {
            long bufferStart = 0;
            int bufferLength = 0;
            long position = 0;
            long next = baseOffset;
            int batches = 0;
            var damage = BatchCheck.Ok;
            while (position < fileSize)
            {
                int at = (int)(position - bufferStart);
                var check = RecordBatch.Check(buffer.Span[at..bufferLength], verifyCrc: true, out int size, PartitionLog.MaxBatchSize);
                if (check == BatchCheck.Incomplete && bufferStart + bufferLength < fileSize)
                {
                    bufferStart = position & ~(long)(Page - 1);
                    int need = (int)(position - bufferStart) + Math.Max(size, RecordBatch.HeaderSize);
                    if (need > buffer.Length)
                    {
                        buffer.Return();
                        buffer = pool.Rent(need);
                    }
                    bufferLength = await ReadFullyAsync(file, buffer, bufferStart, fileSize);
                    continue;
                }
                if (check == BatchCheck.Ok && new RecordBatch(buffer.Span[at..]).BaseOffset != next)
                {
                    check = BatchCheck.BadOffsets;
                }
                if (check != BatchCheck.Ok)
                {
                    damage = check;
                    break;
                }
                var header = new RecordBatch(buffer.Span[at..]);
                index.OnBatch((int)(next - baseOffset), (int)position, header.MaxTimestamp, indexInterval);
                next = header.LastOffset + 1;
                position += size;
                batches++;
            }
            long dropped = 0;
            long validAfter = -1;
            if (position < fileSize)
            {
                (dropped, validAfter) = await InspectTailAsync(file, position, fileSize, next, pool);
                if (dropped == 0)
                {
                    damage = BatchCheck.Ok; // only zero padding after the last batch
                }
            }
            return new ScanResult
            {
                ValidSize = position,
                NextOffset = next,
                ValidBatches = batches,
                Index = index,
                FileSize = fileSize,
                Damage = damage,
                DroppedBytes = dropped,
                ValidBatchAfterDamageAt = validAfter,
            };
        }
        finally
        {
            buffer.Return();
        }
    }

    /// <summary>After the last valid batch: how many bytes up to the last non-zero one, and where the first valid
    /// batch (magic, bounds, offsets at or past <paramref name="next"/>, CRC) after the damage is, if any. Rare
    /// path (only on damage), so it favours simplicity: a byte-by-byte search for a batch that checks out.</summary>
    private static async ValueTask<(long Dropped, long ValidAt)> InspectTailAsync(IStorageFile file, long from, long fileSize, long next, BufferPool pool)
    {
        var window = pool.Rent(Chunk);
        try
        {
            long lastNonZero = -1;
            long validAt = -1;
            long start = from & ~(long)(Page - 1);
            long candidate = from + 1;
            while (start < fileSize)
            {
                int n = await ReadFullyAsync(file, window, start, fileSize);
                if (n <= 0)
                {
                    break;
                }
                int skip = (int)Math.Max(0, from - start);
                int last = window.Span[skip..n].LastIndexOfAnyExcept((byte)0);
                if (last >= 0)
                {
                    lastNonZero = start + skip + last;
                }
                int c = (int)(candidate - start);
                for (; validAt < 0 && c < n; c++)
                {
                    if (c + RecordBatch.MagicAt >= n && start + n < fileSize)
                    {
                        break; // the header straddles the window: the next window starts at its page
                    }
                    if (c + RecordBatch.MagicAt >= n || window.Span[c + RecordBatch.MagicAt] != RecordBatch.CurrentMagic)
                    {
                        continue;
                    }
                    var check = RecordBatch.Check(window.Span[c..n], verifyCrc: true, out int size, PartitionLog.MaxBatchSize);
                    if (check == BatchCheck.Incomplete && size > 0 && start + c + size <= fileSize)
                    {
                        check = await CheckAtAsync(file, start + c, size, fileSize, pool);
                    }
                    if (check == BatchCheck.Ok && new RecordBatch(window.Span[c..n]).BaseOffset >= next)
                    {
                        validAt = start + c;
                    }
                }
                candidate = start + c;
                long nextStart = validAt >= 0 || c >= n ? start + n : (start + c) & ~(long)(Page - 1);
                start = Math.Max(nextStart, start + Page);
            }
            long dropped = lastNonZero >= from ? lastNonZero + 1 - from : 0;
            return (dropped, validAt);
        }
        finally
        {
            window.Return();
        }
    }

    private static async ValueTask<BatchCheck> CheckAtAsync(IStorageFile file, long position, int size, long fileSize, BufferPool pool)
    {
        long start = position & ~(long)(Page - 1);
        int skip = (int)(position - start);
        var buffer = pool.Rent(skip + size + Page);
        try
        {
            int n = await ReadFullyAsync(file, buffer, start, fileSize);
            return n < skip + size ? BatchCheck.Incomplete : RecordBatch.Check(buffer.Span.Slice(skip, size), verifyCrc: true, out _, PartitionLog.MaxBatchSize);
        }
        finally
        {
            buffer.Return();
        }
    }

    /// <summary>Reads from <paramref name="start"/> (page-aligned) into the buffer until it is full or the file ends.</summary>
    private static async ValueTask<int> ReadFullyAsync(IStorageFile file, AlignedBuffer buffer, long start, long fileSize)
    {
        int want = (int)Math.Min(buffer.Length, (fileSize - start + Page - 1) & ~(long)(Page - 1));
        int done = 0;
        while (done < want)
        {
            int n = await file.ReadAsync(buffer, done, want - done, start + done);
            if (n <= 0)
            {
                break;
            }
            done += n;
            if (n % Page != 0)
            {
                break; // end of file
            }
        }
        return (int)Math.Min(done, fileSize - start);
    }
}
