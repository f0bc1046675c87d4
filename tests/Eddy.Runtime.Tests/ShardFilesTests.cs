using Eddy.Runtime.Files;

namespace Eddy.Runtime.Tests;

/// <summary>Shard.Files: metadata calls made by the shard's file thread, answered back on the shard.</summary>
public sealed class ShardFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eddy-shardfiles-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task CallsRunInOrderAndAnswerOnTheShard()
    {
        using var scope = new ShardGroupScope(shards: 1);
        string sub = Path.Combine(_dir, "a", "b");
        File.WriteAllBytes(Path.Combine(_dir, "1.log"), [1]);
        var result = await scope.Group.InvokeAsync(0, async () =>
        {
            var shard = Shard.Current!;
            var files = shard.Files;
            await files.CreateDirectoryAsync(sub);
            bool onShard = shard.IsCurrent;
            await files.MoveFileAsync(Path.Combine(_dir, "1.log"), Path.Combine(sub, "2.log"), overwrite: false);
            var logs = await files.EnumerateFilesAsync(sub, "*.log");
            bool moved = await files.FileExistsAsync(Path.Combine(sub, "2.log")) && !await files.FileExistsAsync(Path.Combine(_dir, "1.log"));
            var missing = await files.EnumerateEntriesAsync(Path.Combine(_dir, "none"));
            // A directory that is not empty cannot go without recursive: the file thread's exception reaches the caller.
            var refused = await Record(() => files.DeleteDirectoryAsync(Path.Combine(_dir, "a"), recursive: false));
            bool stillOnShard = shard.IsCurrent;
            await files.DeleteDirectoryAsync(Path.Combine(_dir, "a"), recursive: true);
            await files.DeleteDirectoryAsync(Path.Combine(_dir, "a"), recursive: true); // nothing there: nothing to do
            bool gone = !await files.DirectoryExistsAsync(Path.Combine(_dir, "a"));
            return (onShard, logs.Select(p => Path.GetFileName(p)!).ToArray(), moved, missing.Length, refused, stillOnShard, gone);
        });
        Assert.True(result.onShard);
        Assert.Equal(["2.log"], result.Item2);
        Assert.True(result.moved);
        Assert.Equal(0, result.Length);
        Assert.IsAssignableFrom<IOException>(result.refused);
        Assert.True(result.stillOnShard);
        Assert.True(result.gone);
    }

    [Fact]
    public async Task MoreCallsThanTheQueueHoldsAllComplete()
    {
        using var scope = new ShardGroupScope(shards: 1);
        int count = ShardFiles.QueueCapacity * 3;
        var found = await scope.Group.InvokeAsync(0, async () =>
        {
            var files = Shard.Current!.Files;
            var pending = new List<ValueTask>();
            for (int i = 0; i < count; i++)
            {
                pending.Add(files.CreateDirectoryAsync(Path.Combine(_dir, $"d{i}")));
            }
            foreach (var p in pending)
            {
                await p;
            }
            return (await files.EnumerateEntriesAsync(_dir)).Length;
        });
        Assert.Equal(count, found);
    }

    private static async Task<Exception?> Record(Func<ValueTask> call)
    {
        try
        {
            await call();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
