using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

/// <summary>Builds test batches and reads logs back.</summary>
public static class Batches
{
    /// <summary>A batch of <paramref name="records"/> records with <paramref name="valueSize"/>-byte values filled with
    /// <paramref name="fill"/>, timestamps from <paramref name="timestamp"/>.</summary>
    public static byte[] Make(int records, int valueSize, long timestamp = 1_000, byte fill = 0x5A, string? key = null)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(timestamp);
        var value = new byte[valueSize];
        value.AsSpan().Fill(fill);
        for (int i = 0; i < records; i++)
        {
            if (key is null)
            {
                builder.Add(timestamp + i, [], value, keyIsNull: true);
            }
            else
            {
                builder.Add(timestamp + i, System.Text.Encoding.UTF8.GetBytes(key), value);
            }
        }
        return builder.Finish().ToArray();
    }

    /// <summary>Reads every batch from <paramref name="from"/> to the log end: (base offset, record count, fill byte of
    /// the first value, max timestamp) per batch.</summary>
    public static async ValueTask<List<(long Base, int Count, long MaxTimestamp, int Size)>> ReadAll(PartitionLog log, long from, int maxBytes = 64 << 10)
    {
        var result = new List<(long, int, long, int)>();
        long offset = from;
        while (offset < log.LogEndOffset)
        {
            using var read = await log.ReadAsync(offset, maxBytes);
            Assert.False(read.IsEmpty);
            var span = read.Records.Span;
            for (int at = 0; at < span.Length;)
            {
                Assert.Equal(BatchCheck.Ok, RecordBatch.Check(span[at..], verifyCrc: true, out int size));
                var h = new RecordBatch(span[at..]);
                if (h.LastOffset >= offset)
                {
                    result.Add((h.BaseOffset, h.RecordCount, h.MaxTimestamp, size));
                }
                at += size;
            }
            offset = read.NextOffset;
        }
        return result;
    }
}
