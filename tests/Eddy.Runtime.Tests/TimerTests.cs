using System.Diagnostics;

namespace Eddy.Runtime.Tests;

public class TimerTests
{
    [Fact]
    public async Task DelayWaitsAtLeastItsDuration()
    {
        using var scope = new ShardGroupScope(shards: 1);
        var elapsed = await scope.Group.InvokeAsync(0, async () =>
        {
            var watch = Stopwatch.StartNew();
            await Shard.Current!.Delay(TimeSpan.FromMilliseconds(30));
            return watch.Elapsed;
        });
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(29), $"woke after {elapsed}");
    }

    [Fact]
    public async Task TimersFireInDeadlineOrderAndCancelledOnesDoNot()
    {
        using var scope = new ShardGroupScope(shards: 1);
        var fired = await scope.Group.InvokeAsync(0, async () =>
        {
            var shard = Shard.Current!;
            var order = new List<string>();
            long now = shard.Clock.NowNanos;
            shard.Schedule(now + 20_000_000, s => order.Add((string)s!), "late");
            shard.Schedule(now + 5_000_000, s => order.Add((string)s!), "early");
            var cancelled = shard.Schedule(now + 10_000_000, s => order.Add((string)s!), "cancelled");
            Assert.True(cancelled.Cancel());
            Assert.False(cancelled.Cancel());
            await shard.Delay(TimeSpan.FromMilliseconds(40));
            return order;
        });
        Assert.Equal(new[] { "early", "late" }, fired);
    }
}
