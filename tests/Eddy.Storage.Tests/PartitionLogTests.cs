using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

public sealed class PartitionLogTests
{
    private static readonly LogOptions Small = new() { SegmentBytes = 64 << 10, UseBatchCache = false, RetentionTime = null };

    [Fact]
    public async Task AppendAndReadRoundTripAcrossSegmentRolls()
    {
        using var scope = new StorageScope();
        var (written, read, segments) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Small);
            var written = new List<(long, int)>();
            for (int i = 0; i < 120; i++)
            {
                int records = 1 + i % 5;
                long baseOffset = await log.AppendAsync(Batches.Make(records, 100 + i * 37 % 3000, timestamp: 10_000 + i * 10), leaderEpoch: 0);
                written.Add((baseOffset, records));
            }
            var read = await Batches.ReadAll(log, 0, maxBytes: 20_000);
            return (written, read, log.Segments.Count);
        });
        Assert.True(segments > 3, $"expected several segments, got {segments}");
        Assert.Equal(written.Count, read.Count);
        long expected = 0;
        for (int i = 0; i < written.Count; i++)
        {
            Assert.Equal(expected, written[i].Item1);
            Assert.Equal(written[i].Item1, read[i].Base);
            Assert.Equal(written[i].Item2, read[i].Count);
            expected += written[i].Item2;
        }
    }

    [Fact]
    public async Task AppendAssignsOffsetsAndEpochWithoutTouchingTheCallersBytes()
    {
        using var scope = new StorageScope();
        var batch = Batches.Make(3, 50);
        var original = batch.ToArray();
        var (first, second, epoch) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Small);
            long a = await log.AppendAsync(batch, leaderEpoch: 7);
            long b = await log.AppendAsync(batch, leaderEpoch: 7);
            using var read = await log.ReadAsync(b, 1 << 20);
            return (a, b, new RecordBatch(read.Records.Span).PartitionLeaderEpoch);
        });
        Assert.Equal(0, first);
        Assert.Equal(3, second);
        Assert.Equal(7, epoch);
        Assert.Equal(original, batch);
    }

    [Fact]
    public async Task ReopenAfterCleanStopKeepsEverythingAndUsesTheWrittenIndexes()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var before = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Small);
            for (int i = 0; i < 60; i++)
            {
                await log.AppendAsync(Batches.Make(2, 1500, timestamp: i * 100));
            }
            return await Batches.ReadAll(log, 0);
        });
        Assert.NotEmpty(Directory.GetFiles(dir, "*.index"));
        var after = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Small);
            Assert.Equal(120, log.LogEndOffset);
            Assert.Equal(120, log.DurableOffset);
            var all = await Batches.ReadAll(log, 0);
            Assert.Equal(120, await log.AppendAsync(Batches.Make(1, 10)));
            return all;
        });
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task ReadFromAnyOffsetStartsAtTheBatchHoldingIt()
    {
        using var scope = new StorageScope();
        var results = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions { SegmentBytes = 32 << 10, UseBatchCache = false, IndexIntervalBytes = 1024 });
            for (int i = 0; i < 100; i++)
            {
                await log.AppendAsync(Batches.Make(4, 300));
            }
            var found = new List<(long Asked, long First, long Next)>();
            for (long offset = 0; offset < 400; offset += 7)
            {
                using var read = await log.ReadAsync(offset, 1);
                found.Add((offset, read.FirstOffset, read.NextOffset));
            }
            return found;
        });
        foreach (var (asked, first, next) in results)
        {
            Assert.Equal(asked / 4 * 4, first);
            Assert.Equal(first + 4, next); // maxBytes 1: exactly one whole batch
        }
    }

    [Fact]
    public async Task ReadBoundsAreEnforced()
    {
        using var scope = new StorageScope();
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Small);
            await log.AppendAsync(Batches.Make(2, 10));
            using (var atEnd = await log.ReadAsync(2, 1000))
            {
                Assert.True(atEnd.IsEmpty);
            }
            await Assert.ThrowsAsync<OffsetOutOfRangeException>(async () => await log.ReadAsync(3, 1000));
            await Assert.ThrowsAsync<OffsetOutOfRangeException>(async () => await log.ReadAsync(-1, 1000));
            await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync(new byte[70]));
        });
    }

    [Fact]
    public async Task TimestampLookupFindsTheFirstBatchAtOrAfterTheTime()
    {
        using var scope = new StorageScope();
        var answers = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions { SegmentBytes = 16 << 10, UseBatchCache = false, RetentionTime = null });
            for (int i = 0; i < 50; i++)
            {
                await log.AppendAsync(Batches.Make(2, 1000, timestamp: 1_000 + i * 100)); // batch i: 1000+100i .. +1
            }
            return (await log.FindOffsetByTimestampAsync(0), await log.FindOffsetByTimestampAsync(1_000), await log.FindOffsetByTimestampAsync(1_002),
                await log.FindOffsetByTimestampAsync(3_050), await log.FindOffsetByTimestampAsync(5_901), await log.FindOffsetByTimestampAsync(5_902), log.Segments.Count);
        });
        Assert.True(answers.Item7 > 2);
        Assert.Equal(0, answers.Item1);
        Assert.Equal(0, answers.Item2);
        Assert.Equal(2, answers.Item3);   // batch 1 (1100) is the first with a timestamp >= 1002
        Assert.Equal(42, answers.Item4);  // batch 21 starts at 3100
        Assert.Equal(98, answers.Item5);  // the last batch's max is 5901
        Assert.Equal(-1, answers.Item6);
    }

    [Fact]
    public async Task LogAppendTimeStampsTheBatchAndKeepsItsCrcValid()
    {
        using var scope = new StorageScope();
        var (max, attributes, check) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions { TimestampType = TimestampType.LogAppendTime, WallClockMs = () => 123_456 });
            await log.AppendAsync(Batches.Make(3, 10, timestamp: 5));
            using var read = await log.ReadAsync(0, 1000);
            var h = new RecordBatch(read.Records.Span);
            return (h.MaxTimestamp, h.Attributes, RecordBatch.Check(read.Records.Span, true, out _));
        });
        Assert.Equal(123_456, max);
        Assert.Equal(RecordBatch.LogAppendTimeFlag, attributes & RecordBatch.LogAppendTimeFlag);
        Assert.Equal(BatchCheck.Ok, check);
    }

    [Fact]
    public async Task ConcurrentAppendsOnOneShardAreSerializedInOrder()
    {
        using var scope = new StorageScope();
        var offsets = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Small);
            var pending = new ValueTask<long>[20];
            for (int i = 0; i < pending.Length; i++)
            {
                pending[i] = log.AppendAsync(Batches.Make(2, 700));
            }
            var result = new long[pending.Length];
            for (int i = 0; i < pending.Length; i++)
            {
                result[i] = await pending[i];
            }
            Assert.Equal(40, (await Batches.ReadAll(log, 0)).Sum(b => b.Count));
            return result;
        });
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i * 2), offsets);
    }

    [Fact]
    public async Task FollowerAppendKeepsOffsetsAndRejectsAGap()
    {
        using var scope = new StorageScope();
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Small);
            var batch = Batches.Make(3, 10);
            RecordBatch.Assign(batch, 0, 1);
            Assert.Equal(0, await log.AppendAsync(batch, assignOffsets: false));
            RecordBatch.Assign(batch, 5, 1);
            await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync(batch, assignOffsets: false));
            RecordBatch.Assign(batch, 3, 1);
            Assert.Equal(3, await log.AppendAsync(batch, assignOffsets: false));
            Assert.Equal(6, log.LogEndOffset);
        });
    }
}
