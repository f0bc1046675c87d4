namespace Eddy.Storage.Tests;

/// <summary>
/// Appends and cached tail reads allocate nothing per batch once warm, counted on the shard thread (not timed;
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
}
