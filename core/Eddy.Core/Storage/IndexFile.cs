using Eddy.Buffers;

namespace Eddy.Storage;

/// <summary>Reads and writes a segment's <c>.index</c> file (O_DIRECT, whole pages; the header says how much is real).</summary>
public static class IndexFile
{
    private const int Page = AlignedBuffer.Alignment;

    /// <summary>Writes and fdatasyncs the index of a segment whose data is final at <see cref="Segment.Size"/>.</summary>
    public static async ValueTask WriteAsync(IFileLayer files, Segment segment, BufferPool pool)
    {
        int size = (segment.Index.SerializedSize + Page - 1) & ~(Page - 1);
        var buffer = pool.Rent(size);
        try
        {
            buffer.Span[..size].Clear();
            segment.Index.Serialize(buffer.Span, segment.BaseOffset, segment.Size, segment.NextOffset);
            using var file = files.Open(segment.IndexPath, create: true);
            file.Truncate(0);
            await file.WriteAsync(buffer, 0, size, 0, dataSync: true);
        }
        finally
        {
            buffer.Return();
        }
    }

    /// <summary>The segment's index from its file, or null when missing, torn or stale (then the caller rebuilds it).</summary>
    public static async ValueTask<(SegmentIndex? Index, long NextOffset)> TryLoadAsync(IFileLayer files, string path, long baseOffset, long dataSize, BufferPool pool)
    {
        if (!await Runtime.Shard.Current!.Files.FileExistsAsync(path))
        {
            return (null, -1);
        }
        using var file = files.Open(path, create: false);
        long length = file.Size;
        if (length < SegmentIndex.FileHeaderSize || length > BufferPool.MaxSize)
        {
            return (null, -1);
        }
        var buffer = pool.Rent((int)((length + Page - 1) & ~(Page - 1)));
        try
        {
            int n = await file.ReadAsync(buffer, 0, buffer.Length, 0);
            var index = SegmentIndex.TryParse(buffer.Span[..n], baseOffset, dataSize, out long next);
            return (index, next);
        }
        finally
        {
            buffer.Return();
        }
    }
}
