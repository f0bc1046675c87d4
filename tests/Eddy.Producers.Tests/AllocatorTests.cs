using Eddy.Cluster.Producers;
using Eddy.Runtime;

namespace Eddy.Producers.Tests;

/// <summary>Producer ids are unique: within a block, across blocks, across a new allocator (a restarted node), and for
/// callers on every shard at once. The reservations stand in for the controller's, which keeps them in its log.</summary>
public class AllocatorTests
{
    /// <summary>Hands out consecutive blocks, as the controller does, and counts the reservations.</summary>
    private sealed class Reservations
    {
        private long _next;

        public int Count { get; private set; }

        public ValueTask<long> ReserveAsync(int size)
        {
            Count++;
            long first = _next;
            _next += size;
            return new ValueTask<long>(first);
        }
    }

    [Fact]
    public async Task IdsAreUniqueAcrossANewAllocator()
    {
        using var scope = new StorageScope();
        var reservations = new Reservations();
        var first = await scope.Run(async () =>
        {
            var allocator = new ProducerIdAllocator(reservations.ReserveAsync, blockSize: 100);
            var ids = new List<long>();
            for (int i = 0; i < 250; i++)
            {
                ids.Add(await allocator.AllocateAsync());
            }
            return ids;
        });
        Assert.Equal(Enumerable.Range(0, 250).Select(i => (long)i), first);
        Assert.Equal(3, reservations.Count);
        var second = await scope.Run(async () =>
        {
            var allocator = new ProducerIdAllocator(reservations.ReserveAsync, blockSize: 100);
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
        var reservations = new Reservations();
        var allocator = await scope.Run(() => new ValueTask<ProducerIdAllocator>(new ProducerIdAllocator(async size =>
        {
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1)); // a reservation takes a round trip
            return await reservations.ReserveAsync(size);
        }, blockSize: 7)));
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
    }
}
