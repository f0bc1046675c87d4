namespace Eddy.Runtime.Tests;

public class SmpTests
{
    [Fact]
    public async Task WorkRunsOnTheTargetShardAndResultsReturnToTheCaller()
    {
        using var scope = new ShardGroupScope(shards: 3);
        var (ranOn, resumedOn) = await scope.Group.InvokeAsync(0, async () =>
        {
            int ranOn = await Smp.SubmitTo(2, () => Shard.Current!.Id);
            return (ranOn, Shard.Current!.Id);
        });
        Assert.Equal(2, ranOn);
        Assert.Equal(0, resumedOn);
    }

    [Fact]
    public async Task AsynchronousWorkIsAwaitedOnTheTarget()
    {
        using var scope = new ShardGroupScope(shards: 2);
        var observed = await scope.Group.InvokeAsync(0, async () =>
        {
            var seen = await Smp.SubmitTo(1, async () =>
            {
                int before = Shard.Current!.Id;
                await Shard.Current.Delay(TimeSpan.FromMilliseconds(5));
                return (before, Shard.Current!.Id);
            });
            return (seen.before, seen.Item2, Shard.Current!.Id);
        });
        Assert.Equal((1, 1, 0), observed);
    }

    [Fact]
    public async Task ExceptionsTravelBackToTheCallersShard()
    {
        using var scope = new ShardGroupScope(shards: 2);
        (string message, int shard) = await scope.Group.InvokeAsync(1, async () =>
        {
            try
            {
                await Smp.SubmitTo(0, new Func<int>(() => throw new InvalidDataException("boom on shard 0")));
                return ("no exception", -1);
            }
            catch (InvalidDataException e)
            {
                return (e.Message, Shard.Current!.Id);
            }
        });
        Assert.Equal("boom on shard 0", message);
        Assert.Equal(1, shard);
    }

    [Fact]
    public async Task FullQueuesPushBackWithoutDroppingCalls()
    {
        // Queues of 2 entries and 2,000 calls in flight at once: most calls wait in the sender's outbox.
        using var scope = new ShardGroupScope(shards: 2, smpQueueCapacity: 2);
        long sum = await scope.Group.InvokeAsync(0, async () =>
        {
            var calls = new ValueTask<int>[2000];
            for (int i = 0; i < calls.Length; i++)
            {
                int value = i;
                calls[i] = Smp.SubmitTo(1, () => value);
            }
            long total = 0;
            foreach (var call in calls)
            {
                total += await call;
            }
            return total;
        });
        Assert.Equal(1999L * 2000 / 2, sum);
    }

    [Fact]
    public async Task ContinuationsStayOnTheirShardAcrossTimersAndCalls()
    {
        using var scope = new ShardGroupScope(shards: 2);
        var shards = await scope.Group.InvokeAsync(1, async () =>
        {
            var seen = new List<int>();
            for (int i = 0; i < 20; i++)
            {
                await Shard.Current!.Delay(TimeSpan.FromMilliseconds(1));
                seen.Add(Shard.Current!.Id);
                await Smp.SubmitTo(0, () => i);
                seen.Add(Shard.Current!.Id);
                await Task.Yield();
                seen.Add(Shard.Current!.Id);
            }
            return seen;
        });
        Assert.All(shards, id => Assert.Equal(1, id));
    }

    [Fact]
    public async Task SubmitToOwnShardRunsInline()
    {
        using var scope = new ShardGroupScope(shards: 2);
        int result = await scope.Group.InvokeAsync(1, async () => await Smp.SubmitTo(1, () => Shard.Current!.Id * 10));
        Assert.Equal(10, result);
    }

    [Fact]
    public void SubmitToOffShardIsRefused()
    {
        Assert.Throws<InvalidOperationException>(() => { _ = Smp.SubmitTo(0, () => 1); });
    }

    [Fact]
    public void PostingToAStoppedShardFailsInsteadOfHanging()
    {
        var scope = new ShardGroupScope(shards: 1);
        var shard = scope.Group[0];
        scope.Dispose();
        var error = Assert.Throws<InvalidOperationException>(() => shard.Post(_ => { }, null));
        Assert.Contains("stopped", error.Message);
    }
}
