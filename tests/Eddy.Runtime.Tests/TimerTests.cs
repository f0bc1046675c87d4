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

    [Fact]
    public async Task TimersFollowTheInjectedClockNotTheWallClock()
    {
        var clock = new ManualClock();
        using var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1, Clock = clock });
        var fired = new List<string>();
        await group.InvokeAsync(0, () =>
        {
            var shard = Shard.Current!;
            shard.Schedule(shard.Clock.NowNanos + TimeSpan.FromHours(1).Ticks * 100, s => fired.Add((string)s!), "an hour later");
            return true;
        });
        await Task.Delay(50);
        Assert.Empty(await group.InvokeAsync(0, () => fired.ToList()));
        clock.Advance(TimeSpan.FromHours(1));
        // Any work wakes the shard; its loop then sees the hour has passed.
        Assert.Equal(new[] { "an hour later" }, await group.InvokeAsync(0, () => fired.ToList()));
    }
}
