using Eddy.Runtime.Files;

namespace Eddy.Runtime.Tests;

public sealed class DirectFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eddy-directfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AlignedWriteSyncAndReadRoundTrip()
    {
        using var scope = new ShardGroupScope(shards: 1);
        string path = Path.Combine(_dir, "round-trip.dat");
        var read = await scope.Group.InvokeAsync(0, async () =>
        {
            var pool = Shard.Current!.Buffers;
            using var file = DirectFile.Open(path);
            var buffer = pool.Rent(64 << 10);
            for (int i = 0; i < buffer.Length; i++)
            {
                buffer.Span[i] = (byte)(i * 7 + 3);
            }
            await file.AllocateAsync(0, 1 << 20);
            await file.WriteAsync(buffer, 0, 32 << 10, 0);
            await file.WriteAsync(buffer, 32 << 10, 32 << 10, 32 << 10, dataSync: true);
            await file.FlushDataAsync();
            var back = pool.Rent(64 << 10);
            int n = await file.ReadAsync(back, 0, 64 << 10, 0);
            bool same = back.Span[..n].SequenceEqual(buffer.Span[..n]);
            buffer.Return();
            back.Return();
            return (n, same, file.Size);
        });
        Assert.Equal(64 << 10, read.n);
        Assert.True(read.same);
        Assert.Equal(64 << 10, read.Size);
        Assert.Equal(64 << 10, new FileInfo(path).Length);
    }

    [Fact]
    public async Task ReadPastEndReturnsWhatIsThere()
    {
        using var scope = new ShardGroupScope(shards: 1);
        string path = Path.Combine(_dir, "short.dat");
        int n = await scope.Group.InvokeAsync(0, async () =>
        {
            using var file = DirectFile.Open(path);
            var buffer = Shard.Current!.Buffers.Rent(16 << 10);
            await file.WriteAsync(buffer, 0, 4096, 0, dataSync: true);
            int read = await file.ReadAsync(buffer, 0, 16 << 10, 0);
            buffer.Return();
            return read;
        });
        Assert.Equal(4096, n);
    }

    [Theory]
    [InlineData(100, 4096, 0)]   // misaligned file offset
    [InlineData(0, 1000, 0)]     // misaligned length
    [InlineData(0, 4096, 3)]     // misaligned buffer address (any filesystem asks for more than 1 byte)
    public async Task MisalignedRequestsFailCleanlyAndNameTheAlignment(long fileOffset, int length, int bufferOffset)
    {
        using var scope = new ShardGroupScope(shards: 1);
        string path = Path.Combine(_dir, "misaligned.dat");
        var error = await scope.Group.InvokeAsync(0, async () =>
        {
            using var file = DirectFile.Open(path);
            var buffer = Shard.Current!.Buffers.Rent(16 << 10);
            try
            {
                await file.WriteAsync(buffer, bufferOffset, length, fileOffset);
                return "no error";
            }
            catch (ArgumentException e)
            {
                // The file must still work after the refused request.
                await file.WriteAsync(buffer, 0, 4096, 0);
                return e.Message;
            }
            finally
            {
                buffer.Return();
            }
        });
        Assert.Contains("aligned to", error);
        Assert.Matches(@"\d+ bytes", error);
    }

    [Fact]
    public async Task RegisteredBuffersUseFixedReadsAndWritesWhereTheBackendHasThem()
    {
        using var scope = new ShardGroupScope(shards: 1);
        string path = Path.Combine(_dir, "fixed.dat");
        var result = await scope.Group.InvokeAsync(0, async () =>
        {
            var shard = Shard.Current!;
            var buffers = new[] { shard.Buffers.Rent(8192), shard.Buffers.Rent(8192) };
            bool registered = shard.Io.TryRegisterBuffers(buffers);
            buffers[0].Span.Fill(0x5A);
            using var file = DirectFile.Open(path);
            await file.WriteAsync(buffers[0], 0, 8192, 0, dataSync: true);
            int n = await file.ReadAsync(buffers[1], 0, 8192, 0);
            return (registered, shard.IoBackendName, n, buffers[1].Span.IndexOfAnyExcept((byte)0x5A));
        });
        Assert.Equal(result.IoBackendName == "io_uring", result.registered);
        Assert.Equal(8192, result.n);
        Assert.Equal(-1, result.Item4);
    }
}
