using Eddy.Storage;

namespace Eddy.Storage.Tests;

/// <summary>Flush policy and durable offset, truncating the suffix, the start offset, retention.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task FlushEveryAppendMakesEachAppendDurable()
    {
        using var scope = new StorageScope();
        var durable = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir());
            await log.AppendAsync(Batches.Make(3, 10));
            return log.DurableOffset;
        });
        Assert.Equal(3, durable);
    }

    [Fact]
    public async Task WriteCachingFlushesByBytesAndByInterval()
    {
        using var scope = new StorageScope();
        var options = new LogOptions { FlushEveryAppend = false, FlushBytes = 10_000, FlushInterval = TimeSpan.FromMilliseconds(50) };
        var (afterSmall, afterBytes, afterTimer, afterExplicit) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), options);
            await log.AppendAsync(Batches.Make(1, 100));
            long small = log.DurableOffset;
            await log.AppendAsync(Batches.Make(1, 12_000));
            long bytes = log.DurableOffset;
            await log.AppendAsync(Batches.Make(1, 100));
            await Runtime.Shard.Current!.Delay(TimeSpan.FromMilliseconds(300));
            long timer = log.DurableOffset;
            await log.AppendAsync(Batches.Make(1, 100));
            await log.FlushAsync();
            return (small, bytes, timer, log.DurableOffset);
        });
        Assert.Equal(0, afterSmall);
        Assert.Equal(2, afterBytes);
        Assert.Equal(3, afterTimer);
        Assert.Equal(4, afterExplicit);
    }

    [Fact]
    public async Task TruncateRemovesTheSuffixAcrossSegmentsAndSurvivesReopen()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var options = new LogOptions { SegmentBytes = 8 << 10, RetentionTime = null };
        var (segmentsBefore, segmentsAfter, cachedAfter) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options);
            for (int i = 0; i < 40; i++)
            {
                await log.AppendAsync(Batches.Make(2, 1000));
            }
            int before = log.Segments.Count;
            await Assert.ThrowsAsync<ArgumentException>(async () => await log.TruncateAsync(21));
            await log.TruncateAsync(20);
            Assert.Equal(20, log.LogEndOffset);
            Assert.Equal(20, log.DurableOffset);
            using (var atEnd = await log.ReadAsync(20, 1000))
            {
                Assert.True(atEnd.IsEmpty);
            }
            using var cached = await log.ReadAsync(18, 100_000);
            Assert.Equal(20, cached.NextOffset);
            Assert.Equal(20, await log.AppendAsync(Batches.Make(5, 10)));
            return (before, log.Segments.Count, cached.FromCache);
        });
        Assert.True(segmentsAfter < segmentsBefore);
        var all = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options);
            return await Batches.ReadAll(log, 0);
        });
        Assert.Equal(11, all.Count);
        Assert.Equal(25, all[^1].Base + all[^1].Count);
    }

    [Fact]
    public async Task TruncateToTheStartOfASegmentAndToZero()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var options = new LogOptions { SegmentBytes = 8 << 10, RetentionTime = null };
        long reopened = await scope.Run(async () =>
        {
            await using (var log = await PartitionLog.OpenAsync(dir, options))
            {
                for (int i = 0; i < 20; i++)
                {
                    await log.AppendAsync(Batches.Make(1, 2000));
                }
                long secondBase = log.Segments[1].BaseOffset;
                await log.TruncateAsync(secondBase);
                Assert.Equal(secondBase, log.LogEndOffset);
                await log.TruncateAsync(0);
                Assert.Equal(0, log.LogEndOffset);
                Assert.Single(log.Segments);
                await log.AppendAsync(Batches.Make(1, 10));
            }
            await using var again = await PartitionLog.OpenAsync(dir, options);
            return again.LogEndOffset;
        });
        Assert.Equal(1, reopened);
    }

    [Fact]
    public async Task StartOffsetHidesOlderDataAndDeletesWholeSegments()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var options = new LogOptions { SegmentBytes = 8 << 10, RetentionTime = null };
        var (segmentsBefore, segmentsAfter, firstRead) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options);
            for (int i = 0; i < 30; i++)
            {
                await log.AppendAsync(Batches.Make(1, 2000));
            }
            int before = log.Segments.Count;
            await log.SetStartOffsetAsync(13);
            Assert.Equal(13, log.StartOffset);
            await Assert.ThrowsAsync<OffsetOutOfRangeException>(async () => await log.ReadAsync(12, 100));
            using var read = await log.ReadAsync(13, 100);
            return (before, log.Segments.Count, read.FirstOffset);
        });
        Assert.True(segmentsAfter < segmentsBefore);
        Assert.Equal(13, firstRead);
        long start = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options, startOffset: 13);
            return log.StartOffset;
        });
        Assert.Equal(13, start);
    }

    [Fact]
    public async Task RetentionBySizeDeletesOldestClosedSegments()
    {
        using var scope = new StorageScope();
        var options = new LogOptions { SegmentBytes = 8 << 10, RetentionBytes = 20 << 10, RetentionTime = null };
        var (deleted, size, start, count) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), options);
            for (int i = 0; i < 40; i++)
            {
                await log.AppendAsync(Batches.Make(1, 2000));
            }
            int d = await log.ApplyRetentionAsync();
            return (d, log.SizeBytes, log.StartOffset, log.Segments.Count);
        });
        Assert.True(deleted > 0);
        Assert.InRange(size, 1, (20 << 10) + (8 << 10));
        Assert.True(start > 0);
        Assert.Equal(count, Directory.GetFiles(scope.LogDir(), "*.log").Length);
    }

    [Fact]
    public async Task RetentionByTimeDeletesSegmentsWhoseNewestRecordIsTooOld()
    {
        using var scope = new StorageScope();
        long now = 1_000_000;
        var options = new LogOptions { SegmentBytes = 8 << 10, RetentionTime = TimeSpan.FromSeconds(100), WallClockMs = () => now };
        var (deleted, start, remaining) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), options);
            for (int i = 0; i < 30; i++)
            {
                await log.AppendAsync(Batches.Make(1, 2000, timestamp: i < 15 ? 100 : 950_000));
            }
            int d = await log.ApplyRetentionAsync();
            Assert.Equal(0, await log.ApplyRetentionAsync());
            return (d, log.StartOffset, await Batches.ReadAll(log, log.StartOffset));
        });
        Assert.True(deleted > 0);
        Assert.InRange(start, 1, 15);
        Assert.All(remaining.Where(b => b.Base >= 15), b => Assert.Equal(950_000, b.MaxTimestamp));
    }
}
