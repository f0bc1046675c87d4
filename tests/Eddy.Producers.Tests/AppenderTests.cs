using Eddy.Cluster.Producers;
using Eddy.Storage;

namespace Eddy.Producers.Tests;

/// <summary>Check, append and record against a real log: retries are not appended twice, refused batches change
/// nothing, and batches in flight together are checked in order.</summary>
public class AppenderTests
{
    private static readonly LogOptions Options = new() { RetentionTime = null, UseBatchCache = false };

    [Fact]
    public async Task RetryGetsTheOriginalOffsetAndIsNotAppended()
    {
        using var scope = new StorageScope();
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Options);
            var appender = new ProducerAppender(log, new ProducerStateTable());
            await appender.AppendAsync(ProducerBatches.Plain(3));
            var first = await appender.AppendAsync(ProducerBatches.Make(9, 0, 0, 4, timestamp: 7_000));
            Assert.Equal(new ProducerAppendResult(0, 3, 6, -1, false), first);
            await appender.AppendAsync(ProducerBatches.Plain(2));
            long end = log.LogEndOffset;
            var retry = await appender.AppendAsync(ProducerBatches.Make(9, 0, 0, 4, timestamp: 7_000));
            // Kafka's answer to a duplicate: the original offsets, and its max timestamp as the log append time.
            Assert.Equal(new ProducerAppendResult(0, 3, 6, 7_003, true), retry);
            Assert.Equal(end, log.LogEndOffset);
            var gap = await appender.AppendAsync(ProducerBatches.Make(9, 0, 5, 4));
            Assert.Equal(ProducerAppendResult.Failed(45), gap);
            var transactional = await appender.AppendAsync(ProducerBatches.Make(9, 0, 4, 1, transactional: true));
            Assert.Equal(48, transactional.ErrorCode);
            Assert.Equal(end, log.LogEndOffset);
            var next = await appender.AppendAsync(ProducerBatches.Make(9, 0, 4, 1));
            Assert.Equal(new ProducerAppendResult(0, end, end, -1, false), next);
        });
    }

    [Fact]
    public async Task BatchesInFlightTogetherAreCheckedInOrder()
    {
        using var scope = new StorageScope();
        var results = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Options);
            var appender = new ProducerAppender(log, new ProducerStateTable());
            Assert.Equal(0, (await appender.AppendAsync(ProducerBatches.Make(9, 0, 0, 10))).ErrorCode);
            // A client with five requests in flight: each is checked only after the one before it is recorded.
            var pending = new ValueTask<ProducerAppendResult>[5];
            for (int i = 0; i < pending.Length; i++)
            {
                pending[i] = appender.AppendAsync(ProducerBatches.Make(9, 0, (i + 1) * 10, 10));
            }
            var done = new ProducerAppendResult[pending.Length];
            for (int i = 0; i < pending.Length; i++)
            {
                done[i] = await pending[i];
            }
            return done;
        });
        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal(new ProducerAppendResult(0, (i + 1) * 10, (i + 1) * 10 + 9, -1, false), results[i]);
        }
    }

    [Fact]
    public async Task LogAppendTimeIsWhatADuplicateReports()
    {
        using var scope = new StorageScope();
        await scope.Run(async () =>
        {
            var options = new LogOptions { RetentionTime = null, TimestampType = TimestampType.LogAppendTime, WallClockMs = () => 123_456 };
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), options);
            var appender = new ProducerAppender(log, new ProducerStateTable());
            await appender.AppendAsync(ProducerBatches.Make(9, 0, 0, 2, timestamp: 1_000));
            var retry = await appender.AppendAsync(ProducerBatches.Make(9, 0, 0, 2, timestamp: 1_000));
            Assert.True(retry.Duplicate);
            Assert.Equal(123_456, retry.LogAppendTime);
        });
    }

    [Fact]
    public async Task AppendOfAKnownProducerAllocatesNothingPerBatch()
    {
        using var scope = new StorageScope();
        long allocated = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions
            {
                SegmentBytes = 1L << 30,
                RetentionTime = null,
                UseBatchCache = false,
            });
            var appender = new ProducerAppender(log, new ProducerStateTable());
            var batches = new byte[1300][];
            for (int i = 0; i < batches.Length; i++)
            {
                batches[i] = ProducerBatches.Make(9, 0, i * 10, 10);
            }
            for (int i = 0; i < 300; i++)
            {
                await appender.AppendAsync(batches[i]).ConfigureAwait(false);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 300; i < 1300; i++)
            {
                await appender.AppendAsync(batches[i]).ConfigureAwait(false);
            }
            long used = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(12_999, log.LogEndOffset - 1);
            return used;
        });
        // As in the storage test: the sparse index grows by one entry every few KiB; nothing per batch.
        Assert.True(allocated < 16 * 1024, $"1000 appends allocated {allocated} B ({allocated / 1000.0:F1} B per append)");
    }
}
