using Eddy.Cluster.Producers;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Producers.Tests;

/// <summary>Producer ids are unique, also across a reopen of the kvstore that holds the reserved range.</summary>
public class AllocatorTests
{
    [Fact]
    public async Task IdsAreUniqueAcrossReopen()
    {
        using var scope = new StorageScope();
        string dir = Path.Combine(scope.Root, "kvstore", "shard-0");
        var first = await scope.Run(async () =>
        {
            await using var kv = await KvStore.OpenAsync(dir);
            var allocator = new ProducerIdAllocator(kv, blockSize: 100);
            var ids = new List<long>();
            for (int i = 0; i < 250; i++)
            {
                ids.Add(await allocator.AllocateAsync());
            }
            Assert.True(kv.TryGetInt64(ProducerIdAllocator.ReservedEndKey, out long end));
            Assert.Equal(300, end);
            return ids;
        });
        Assert.Equal(Enumerable.Range(0, 250).Select(i => (long)i), first);
        var second = await scope.Run(async () =>
        {
            await using var kv = await KvStore.OpenAsync(dir);
            var allocator = new ProducerIdAllocator(kv, blockSize: 100);
            var ids = new List<long>();
            for (int i = 0; i < 10; i++)
            {
                ids.Add(await allocator.AllocateAsync());
            }
            return ids;
        });
        // The rest of the block reserved before the restart is skipped, never handed out twice.
        Assert.Equal(Enumerable.Range(300, 10).Select(i => (long)i), second);
    }

    [Fact]
    public async Task ConcurrentCallersFromEveryShardGetDistinctIds()
    {
        using var scope = new StorageScope(shards: 3);
        string dir = Path.Combine(scope.Root, "kvstore", "shard-0");
        var (kv, allocator) = await scope.Run(async () =>
        {
            var kv = await KvStore.OpenAsync(dir);
            return (kv, new ProducerIdAllocator(kv, blockSize: 7));
        });
        var perShard = await Task.WhenAll(Enumerable.Range(0, 3).Select(shard => scope.Run(async () =>
        {
            var calls = new ValueTask<long>[200];
            for (int i = 0; i < calls.Length; i++)
            {
                calls[i] = Smp.SubmitTo(allocator.ShardId, allocator.AllocateAsync);
            }
            var ids = new List<long>();
            foreach (var call in calls)
            {
                ids.Add(await call);
            }
            return ids;
        }, shard)));
        var all = perShard.SelectMany(ids => ids).ToList();
        Assert.Equal(600, all.Count);
        Assert.Equal(600, all.Distinct().Count());
        Assert.True(all.Max() < 600 + 7);
        await scope.Run(() => kv.DisposeAsync());
    }
}
