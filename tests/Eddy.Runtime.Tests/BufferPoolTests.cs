namespace Eddy.Runtime.Tests;

public class BufferPoolTests
{
    [Fact]
    public async Task BuffersArePageAlignedAndReused()
    {
        using var scope = new ShardGroupScope(shards: 1);
        var (aligned, reused, length) = await scope.Group.InvokeAsync(0, () =>
        {
            var pool = Shard.Current!.Buffers;
            var a = pool.Rent(5000);
            bool isAligned = a.Address % 4096 == 0;
            nint address = a.Address;
            int len = a.Length;
            a.Return();
            var b = pool.Rent(8192);
            bool same = b.Address == address;
            b.Return();
            return (isAligned, same, len);
        });
        Assert.True(aligned);
        Assert.True(reused);
        Assert.Equal(8192, length);
    }

    [Fact]
    public async Task ABufferFreedOnAnotherShardGoesHome()
    {
        using var scope = new ShardGroupScope(shards: 2);
        var buffer = await scope.Group.InvokeAsync(0, () => Shard.Current!.Buffers.Rent(4096));
        Assert.Equal(1, await scope.Group.InvokeAsync(0, () => Shard.Current!.Buffers.Outstanding));
        await scope.Group.InvokeAsync(1, () =>
        {
            buffer.Return();
            return true;
        });
        int outstanding = -1;
        for (int i = 0; i < 200 && outstanding != 0; i++)
        {
            outstanding = await scope.Group.InvokeAsync(0, () => Shard.Current!.Buffers.Outstanding);
            await Task.Delay(5);
        }
        Assert.Equal(0, outstanding);
    }

    [Fact]
    public async Task DoubleReturnIsCaught()
    {
        using var scope = new ShardGroupScope(shards: 1);
        var error = await scope.Group.InvokeAsync(0, () =>
        {
            var b = Shard.Current!.Buffers.Rent(4096);
            b.Return();
            try
            {
                b.Return();
                return "none";
            }
            catch (InvalidOperationException e)
            {
                return e.Message;
            }
        });
        Assert.Contains("twice", error);
    }
}
