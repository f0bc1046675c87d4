namespace Eddy.Storage.Tests;

/// <summary>
/// Appends and disk reads allocate nothing per batch once warm, counted on the shard thread (not timed;
/// meaningful in Release, where async state machines are structs).
/// </summary>
public class SteadyStateAllocationTests
{
    [Theory]
    [InlineData(true)]   // fdatasync with every append (the default, acks=all)
    [InlineData(false)]  // write caching
    public async Task AppendAllocatesNothingPerBatch(bool flushEveryAppend)
    {
        using var scope = new StorageScope();
        var batch = Batches.Make(records: 10, valueSize: 100);
        long allocated = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions
            {
                FlushEveryAppend = flushEveryAppend,
                SegmentBytes = 1L << 30,
                RetentionTime = null,
                UseBatchCache = false,
            });
            for (int i = 0; i < 300; i++)
            {
                await log.AppendAsync(batch).ConfigureAwait(false);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                await log.AppendAsync(batch).ConfigureAwait(false);
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });
        // The sparse index grows by one entry every few KiB: allow its occasional list growth, not a cost per batch.
        Assert.True(allocated < 16 * 1024, $"1000 appends allocated {allocated} B ({allocated / 1000.0:F1} B per append)");
    }

    [Fact]
    public async Task ConcurrentAppendsAllocateOnlyTheirAsyncFrames()
    {
        using var scope = new StorageScope();
        var batch = Batches.Make(records: 10, valueSize: 100);
        var pending = new ValueTask<long>[16];
        long allocated = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions
            {
                SegmentBytes = 1L << 30,
                RetentionTime = null,
                UseBatchCache = false,
            });
            // 16 appends at a time: all but the first queue behind its write and wait for a shared fdatasync.
            // Pooled, so that ConfigureAwait(false) resumes on the shard (docs/runtime.md).
            [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
            async ValueTask Round()
            {
                for (int i = 0; i < pending.Length; i++)
                {
                    pending[i] = log.AppendAsync(batch);
                }
                for (int i = 0; i < pending.Length; i++)
                {
                    await pending[i].ConfigureAwait(false);
                }
            }
            for (int r = 0; r < 20; r++)
            {
                await Round().ConfigureAwait(false);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int r = 0; r < 60; r++)
            {
                await Round().ConfigureAwait(false);
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });
        // The log's queue nodes and durability waiters are pooled. What remains are the frames of the async methods
        // suspended at once: the pooling builder keeps one per thread and one per core, so 16 appends in flight
        // allocate most of theirs (AppendAsync's and WriteAsync's, about 150 B each). This bounds that, so anything
        // more per append (a delegate, a TaskCompletionSource, a copy) fails here.
        Assert.True(allocated < 960 * 400, $"960 concurrent appends allocated {allocated} B ({allocated / 960.0:F1} B per append)");
    }

    [Fact]
    public async Task DiskReadsAllocateNothingPerRead()
    {
        using var scope = new StorageScope();
        var batch = Batches.Make(records: 10, valueSize: 1000);
        var (allocated, reads) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions
            {
                FlushEveryAppend = false,
                FlushBytes = long.MaxValue,
                RetentionTime = null,
                UseBatchCache = false,
            });
            for (int i = 0; i < 2000; i++)
            {
                await log.AppendAsync(batch).ConfigureAwait(false);
            }
            // Warm-up: each pass from the start leaves one more window kept (its reader remembers where it ended)
            // until the reader keeps as many as it may; from then on a pass takes its windows from the pools.
            int warmPasses = SegmentReader.MaxKept + 1;
            long before = 0;
            int reads = 0;
            for (int pass = 0; pass < warmPasses + 3; pass++)
            {
                if (pass == warmPasses)
                {
                    before = GC.GetAllocatedBytesForCurrentThread();
                }
                long offset = 0;
                while (offset < log.LogEndOffset)
                {
                    using var read = await log.ReadAsync(offset, 64 << 10).ConfigureAwait(false);
                    offset = read.NextOffset;
                    reads += pass >= warmPasses ? 1 : 0;
                }
            }
            return (GC.GetAllocatedBytesForCurrentThread() - before, reads);
        });
        // About 1000 reads and 60 disk reads: a cost per read or per disk read would be kilobytes. The slack is for
        // a pool's one-time growth (a new high-water mark), not a cost per read.
        Assert.True(reads > 600);
        Assert.True(allocated < 2048, $"{reads} reads from disk allocated {allocated} B ({allocated / (double)reads:F1} B per read)");
    }
}
