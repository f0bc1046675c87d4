using Eddy.Runtime.Files;

namespace Eddy.Runtime.Tests;

/// <summary>
/// The shard hot paths allocate nothing per operation once warm: pooled awaitables, pooled async builders and
/// pooled cross-shard calls. Counted with the per-thread allocation counter on the shard threads (not timed).
/// </summary>
public sealed class SteadyStateAllocationTests : IDisposable
{
    private const int Operations = 5_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("eddy-alloc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task CrossShardCallsAllocateNothingPerCall()
    {
        using var scope = new ShardGroupScope(shards: 2);
        var group = scope.Group;
        Func<int> work = static () => 7;
        async ValueTask<long> Calls(int count)
        {
            long sum = 0;
            for (int i = 0; i < count; i++)
            {
                sum += await Smp.SubmitTo(1, work);
            }
            return sum;
        }
        await group.InvokeAsync(0, () => Calls(1000)); // warm the pools
        long targetBefore = await group.InvokeAsync(1, () => GC.GetAllocatedBytesForCurrentThread());
        long callerAllocated = await group.InvokeAsync(0, async () =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            await Calls(Operations);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });
        long targetAllocated = await group.InvokeAsync(1, () => GC.GetAllocatedBytesForCurrentThread()) - targetBefore;
        // A few hundred bytes of slack cover the one-off costs of the measuring calls themselves.
        Assert.True(callerAllocated < 1024, $"caller shard allocated {callerAllocated} B over {Operations} calls");
        Assert.True(targetAllocated < 1024, $"target shard allocated {targetAllocated} B over {Operations} calls");
    }

    [Fact]
    public async Task DirectFileWritesAndReadsAllocateNothingPerOperation()
    {
        using var scope = new ShardGroupScope(shards: 1);
        string path = Path.Combine(_dir, "alloc.dat");
        long allocated = await scope.Group.InvokeAsync(0, async () =>
        {
            using var file = DirectFile.Open(path);
            var buffer = Shard.Current!.Buffers.Rent(4096);
            async ValueTask Loop(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    // Shard-owned awaitables complete on this shard: resuming inline stays here and skips the post.
                    await file.WriteAsync(buffer, 0, 4096, (i % 64) * 4096L).ConfigureAwait(false);
                    await file.ReadAsync(buffer, 0, 4096, (i % 64) * 4096L).ConfigureAwait(false);
                }
            }
            await Loop(500);
            long before = GC.GetAllocatedBytesForCurrentThread();
            await Loop(Operations);
            long after = GC.GetAllocatedBytesForCurrentThread();
            buffer.Return();
            return after - before;
        });
        Assert.True(allocated < 1024, $"shard allocated {allocated} B over {2 * Operations} file operations");
    }

    [Fact]
    public async Task TimersAllocateNothingPerDelay()
    {
        using var scope = new ShardGroupScope(shards: 1);
        long allocated = await scope.Group.InvokeAsync(0, async () =>
        {
            var shard = Shard.Current!;
            for (int i = 0; i < 100; i++)
            {
                await shard.Delay(TimeSpan.Zero);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                await shard.Delay(TimeSpan.Zero);
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        });
        Assert.True(allocated < 1024, $"shard allocated {allocated} B over 1000 delays");
    }
}
