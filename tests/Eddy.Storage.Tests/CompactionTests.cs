using System.Text;
using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

public sealed class CompactionTests
{
    private static byte[] Keyed(long timestamp, params (string Key, string? Value)[] records)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(timestamp);
        foreach (var (key, value) in records)
        {
            builder.Add(timestamp, Encoding.UTF8.GetBytes(key), value is null ? [] : Encoding.UTF8.GetBytes(value), valueIsNull: value is null);
        }
        return builder.Finish().ToArray();
    }

    /// <summary>Every record in the log: (offset, key, value or null).</summary>
    private static async ValueTask<List<(long Offset, string Key, string? Value)>> Records(PartitionLog log)
    {
        var all = new List<(long, string, string?)>();
        long offset = log.StartOffset;
        while (offset < log.LogEndOffset)
        {
            using var read = await log.ReadAsync(offset, 1 << 20);
            var span = read.Records.Span;
            for (int at = 0; at < span.Length;)
            {
                Assert.Equal(BatchCheck.Ok, RecordBatch.Check(span[at..], verifyCrc: true, out int size));
                var header = new RecordBatch(span[at..]);
                var reader = header.ReadRecords();
                while (reader.TryNext(out var r))
                {
                    all.Add((r.Offset, Encoding.UTF8.GetString(r.Key), r.HasValue ? Encoding.UTF8.GetString(r.Value) : null));
                }
                at += size;
            }
            offset = read.NextOffset;
        }
        return all;
    }

    [Fact]
    public async Task KeepsTheNewestRecordPerKeyWithItsOffsetAndDropsOldTombstones()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        long now = 10_000_000;
        var options = new LogOptions
        {
            SegmentBytes = 4 << 10,
            CleanupPolicy = CleanupPolicy.Compact,
            DeleteRetention = TimeSpan.FromSeconds(10),
            WallClockMs = () => now,
            RetentionTime = null,
        };
        var expected = new Dictionary<string, (long Offset, string? Value)>();
        var (removed, records, end) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options);
            long offset = 0;
            for (int round = 0; round < 30; round++)
            {
                var batch = new List<(string, string?)>();
                for (int k = 0; k < 4; k++)
                {
                    string key = $"key-{(round * 3 + k) % 7}";
                    string? value = round == 20 && k == 0 ? null : $"v{round}-{k}-" + new string('x', 100);
                    batch.Add((key, value));
                    expected[key] = (offset++, value);
                }
                // Tombstone from round 20 is old (beyond delete.retention.ms); everything else is recent.
                await log.AppendAsync(Keyed(round == 20 ? now - 60_000 : now, batch.ToArray()));
            }
            long r = await Compactor.CompactAsync(log);
            await log.AppendAsync(Keyed(now, ("key-0", "after")));
            return (r, await Records(log), log.LogEndOffset);
        });
        Assert.True(removed > 0);
        Assert.Equal(121, end);
        // Closed segments keep only the newest record per key; the active segment is not compacted.
        var byKey = records.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Last());
        foreach (var (key, (offset, value)) in expected)
        {
            if (key == "key-0")
            {
                continue;
            }
            if (value is null && !records.Any(r => r.Offset > offset && r.Key == key))
            {
                continue; // an old tombstone may be gone
            }
            Assert.Equal(offset, byKey[key].Offset);
            Assert.Equal(value, byKey[key].Value);
        }
        Assert.True(records.Count < 60, $"expected compaction to remove most records, {records.Count} left");
        Assert.Equal(records.Select(r => r.Offset).Order(), records.Select(r => r.Offset));

        var reopened = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options);
            return await Records(log);
        });
        Assert.Equal(records, reopened);
    }

    [Fact]
    public async Task KeepsEachIdempotentProducersFieldsAndItsLastBatchEvenWhenEmptied()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var options = new LogOptions { SegmentBytes = 1 << 10, CleanupPolicy = CleanupPolicy.Compact, RetentionTime = null };
        // Producer 7 writes batches 0-9 and producer 8 batches 10-11, all of key-a, then a plain batch supersedes them.
        static byte[] Produced(long producer, int sequence, string value)
        {
            var builder = new RecordBatchBuilder { ProducerId = producer, ProducerEpoch = 2, BaseSequence = sequence };
            builder.Reset(5_000);
            builder.Add(5_000, Encoding.UTF8.GetBytes("key-a"), Encoding.UTF8.GetBytes(value + new string('x', 200)));
            builder.Add(5_000, Encoding.UTF8.GetBytes($"key-{value}"), Encoding.UTF8.GetBytes(value));
            return builder.Finish().ToArray();
        }
        var batches = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options);
            for (int i = 0; i < 12; i++)
            {
                await log.AppendAsync(Produced(i < 10 ? 7 : 8, (i < 10 ? i : i - 10) * 2, $"v{i}"));
            }
            for (int i = 0; i < 12; i++)
            {
                await log.AppendAsync(Keyed(5_000, ("key-a", "plain"), ($"key-v{i}", "plain")));
            }
            await log.RollAsync();
            Assert.True(await Compactor.CompactAsync(log) > 0);
            var all = new List<(long Base, int Count, long Producer, short Epoch, int Sequence, int LastDelta)>();
            using var read = await log.ReadAsync(0, 1 << 20);
            foreach (var batch in RecordBatch.Enumerate(read.Records.Span))
            {
                all.Add((batch.BaseOffset, batch.RecordCount, batch.ProducerId, batch.ProducerEpoch, batch.BaseSequence, batch.LastOffsetDelta));
            }
            return all;
        });
        // Every key the producers wrote was written again by the plain batches: their batches empty out, and only each
        // producer's last stays, empty, with its sequence and offsets.
        var produced = batches.Where(b => b.Producer >= 0).ToList();
        Assert.Equal([(18, 0, 7L, (short)2, 18, 1), (22, 0, 8L, (short)2, 2, 1)], produced);
    }
}
