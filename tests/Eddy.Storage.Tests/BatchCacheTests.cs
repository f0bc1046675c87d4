using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

public sealed class BatchCacheTests
{
    [Fact]
    public async Task TailReadsComeFromTheCacheAndOlderReadsFromDisk()
    {
        using var scope = new StorageScope();
        var (tailFromCache, oldFromCache, sameBytes) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions { UseBatchCache = true });
            for (int i = 0; i < 100; i++)
            {
                await log.AppendAsync(Batches.Make(1, 60_000));
            }
            using var tail = await log.ReadAsync(99, 1 << 20);
            using var old = await log.ReadAsync(0, 1 << 20);
            return (tail.FromCache, old.FromCache, tail.Records.Length > 0);
        });
        Assert.True(tailFromCache);
        Assert.True(oldFromCache); // 6 MB fits the default 64 MiB cache
        Assert.True(sameBytes);
    }

    [Fact]
    public async Task LogsOnAShardShareItsConfiguredCache()
    {
        using var scope = new StorageScope();
        var (cached, capacity, oldFromCache, tailFromCache) = await scope.Run(async () =>
        {
            using var storage = new ShardStorage(Shard.Current!, batchCacheBytes: 2 << 20, readWindowBytes: 0);
            var options = new LogOptions { UseBatchCache = true, Storage = storage };
            await using var first = await PartitionLog.OpenAsync(scope.LogDir("a"), options);
            await using var second = await PartitionLog.OpenAsync(scope.LogDir("b"), options);
            for (int i = 0; i < 40; i++)
            {
                await first.AppendAsync(Batches.Make(1, 60_000));
                await second.AppendAsync(Batches.Make(1, 60_000));
            }
            using var old = await first.ReadAsync(0, 1 << 20);
            using var tail = await second.ReadAsync(39, 1 << 20);
            return (storage.BatchCache.Bytes, storage.BatchCache.Capacity, old.FromCache, tail.FromCache);
        });
        Assert.InRange(cached, 1, capacity); // 4.8 MB appended over both logs, 2 MiB kept
        Assert.False(oldFromCache);
        Assert.True(tailFromCache);
    }

    [Fact]
    public async Task EvictionNeverPullsMemoryFromUnderAReader()
    {
        using var scope = new StorageScope();
        var result = await scope.Run(() =>
        {
            using var cache = new BatchCache(Shard.Current!.Buffers, capacityBytes: 256 << 10, slabSize: 64 << 10);
            using var stream = cache.OpenStream();
            var batch = Batches.Make(1, 20_000, fill: 1);
            stream.Append(batch, 0, 1);
            Assert.True(stream.TryRead(0, 1 << 20, out var held));
            var copy = held.Records.ToArray();
            for (long i = 1; i < 100; i++)
            {
                var other = Batches.Make(1, 20_000, fill: (byte)i);
                stream.Append(other, i, i + 1);
            }
            bool evicted = !stream.TryRead(0, 100, out _);
            bool intact = held.Records.Span.SequenceEqual(copy);
            held.Dispose();
            Assert.True(stream.TryRead(99, 1 << 20, out var last));
            long next = last.NextOffset;
            last.Dispose();
            bool bounded = cache.Bytes <= 256 << 10;
            return ValueTask.FromResult((evicted, intact, next, bounded, stream.StartOffset > 0));
        });
        Assert.True(result.evicted);
        Assert.True(result.intact);
        Assert.Equal(100, result.next);
        Assert.True(result.bounded);
        Assert.True(result.Item5);
    }

    [Fact]
    public async Task ReadsReturnContiguousBatchesUpToTheLimit()
    {
        using var scope = new StorageScope();
        var (first, next, length) = await scope.Run(() =>
        {
            using var cache = new BatchCache(Shard.Current!.Buffers, capacityBytes: 4 << 20);
            using var stream = cache.OpenStream();
            var batch = Batches.Make(2, 1000);
            for (long i = 0; i < 20; i++)
            {
                stream.Append(batch, i * 2, i * 2 + 2);
            }
            stream.TryRead(5, batch.Length * 3, out var read);
            using (read)
            {
                return ValueTask.FromResult((read.FirstOffset, read.NextOffset, read.Records.Length));
            }
        });
        Assert.Equal(4, first);
        Assert.Equal(10, next);
        Assert.Equal(3 * Batches.Make(2, 1000).Length, length);
    }
}
