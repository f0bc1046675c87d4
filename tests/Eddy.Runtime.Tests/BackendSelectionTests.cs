using Eddy.Runtime.IO;

namespace Eddy.Runtime.Tests;

public class BackendSelectionTests
{
    [Fact]
    public async Task ShardsUseTheBackendTheEnvironmentAsksFor()
    {
        string? forced = Environment.GetEnvironmentVariable(ShardGroupOptions.BackendVariable);
        using var scope = new ShardGroupScope(shards: 2);
        var names = await Task.WhenAll(scope.Group.Shards.Select(s => scope.Group.InvokeAsync(s.Id, () => Shard.Current!.IoBackendName)));
        string expected = forced == "epoll" ? "epoll" : "io_uring";
        Assert.All(names, n => Assert.Equal(expected, n));
    }

    [Fact]
    public async Task ForcedEpollWorksEvenWhereIoUringIsAvailable()
    {
        using var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1, Backend = IoBackendKind.Epoll });
        Assert.Equal("epoll", await group.InvokeAsync(0, () => Shard.Current!.IoBackendName));
    }

    [Theory]
    [InlineData("io_uring", IoBackendKind.IoUring)]
    [InlineData("epoll", IoBackendKind.Epoll)]
    [InlineData("auto", IoBackendKind.Auto)]
    public void BackendNamesParse(string name, IoBackendKind kind) => Assert.Equal(kind, ShardGroupOptions.ParseBackend(name));

    [Fact]
    public void UnknownBackendIsRefusedByName()
        => Assert.Contains("kqueue", Assert.Throws<ArgumentException>(() => ShardGroupOptions.ParseBackend("kqueue")).Message);
}
