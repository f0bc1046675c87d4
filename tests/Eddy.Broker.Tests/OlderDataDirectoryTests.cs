using Eddy.Storage;

namespace Eddy.Broker.Tests;

/// <summary>A data directory written before the controller held the topics is refused at start with a message that
/// says so, and left as it was: this version does not read its topics, and must not reuse their directories.</summary>
public sealed class OlderDataDirectoryTests
{
    [Fact]
    public async Task ADataDirectoryFromBeforeTheControllerIsRefusedAndLeftAlone()
    {
        using var scope = new StorageScope();
        string data = Path.Combine(scope.Root, "node");
        string store = Path.Combine(data, "controller");
        Directory.CreateDirectory(store);
        await scope.Run(async () =>
        {
            await using var kv = await KvStore.OpenAsync(store);
            await kv.PutAsync("topic/orders", new byte[] { 1 }); // how the metadata store kept a topic then
        });
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => InProcessNode.StartAsync(data));
        Assert.Contains("from before the controller held the topics", refused.Message);
        Assert.False(Directory.Exists(Path.Combine(data, "controller", "raft")), "the refused start wrote a controller log");
        await scope.Run(async () =>
        {
            await using var kv = await KvStore.OpenAsync(store);
            Assert.True(kv.TryGet("topic/orders", out _));
        });
    }
}
