using Eddy.Buffers;
using Eddy.Runtime;

namespace Eddy.Storage.Tests;

/// <summary>
/// The fault-test file layer that holds writes until fdatasync: reads see held writes, a file closed without a sync (as
/// a SIGKILL closes it) keeps only what was synced, and a sync lands the held writes, truncations and allocations in
/// the order they were made.
/// </summary>
public sealed class VolatileWriteCacheTests
{
    private const int Page = AlignedBuffer.Alignment;

    [Fact]
    public async Task HeldWritesAreReadBackAndOnlySyncedOnesOutliveTheProcess()
    {
        using var scope = new StorageScope();
        string path = Path.Combine(scope.Root, "held");
        await scope.Run(async () =>
        {
            var page = Shard.Current!.Buffers.Rent(2 * Page);
            try
            {
                using (var file = new VolatileWriteCache(DirectFileLayer.Instance.Open(path, create: true)))
                {
                    await WriteAsync(file, page, 0, Page, fill: 1);
                    await file.FlushDataAsync();
                    await WriteAsync(file, page, Page, Page, fill: 2);
                    await WriteAsync(file, page, 0, Page, fill: 3); // over the synced page
                    Assert.Equal(2 * Page, file.Size);
                    Assert.Equal(2 * Page, await file.ReadAsync(page, 0, 2 * Page, 0));
                    Assert.True(page.Span[..Page].ToArray().All(b => b == 3) && page.Span[Page..(2 * Page)].ToArray().All(b => b == 2));
                }
                using var survivor = DirectFileLayer.Instance.Open(path, create: false);
                Assert.Equal(Page, survivor.Size);
                Assert.Equal(Page, await survivor.ReadAsync(page, 0, 2 * Page, 0));
                Assert.True(page.Span[..Page].ToArray().All(b => b == 1), "the synced page is as it was synced");
            }
            finally
            {
                page.Return();
            }
        });
    }

    [Fact]
    public async Task ASyncLandsHeldWritesTruncationsAndAllocationsInOrder()
    {
        using var scope = new StorageScope();
        string path = Path.Combine(scope.Root, "ordered");
        await scope.Run(async () =>
        {
            var page = Shard.Current!.Buffers.Rent(4 * Page);
            try
            {
                using (var file = new VolatileWriteCache(DirectFileLayer.Instance.Open(path, create: true)))
                {
                    await WriteAsync(file, page, 0, 2 * Page, fill: 4);
                    file.Truncate(5000); // cuts the held write: page padding cut before the sync, as snapshots do
                    Assert.Equal(5000, file.Size);
                    Assert.Equal(5000, await file.ReadAsync(page, 0, 2 * Page, 0));
                    Assert.True(page.Span[..5000].ToArray().All(b => b == 4) && page.Span[5000..(2 * Page)].ToArray().All(b => b == 0));
                    await file.AllocateAsync(2 * Page, 2 * Page, extendSize: true);
                    Assert.Equal(4 * Page, file.Size);
                    await file.FlushDataAsync();
                    await file.AllocateAsync(0, 8 * Page, extendSize: true); // held, then lost
                }
                using var survivor = DirectFileLayer.Instance.Open(path, create: false);
                Assert.Equal(4 * Page, survivor.Size);
                Assert.Equal(4 * Page, await survivor.ReadAsync(page, 0, 4 * Page, 0));
                Assert.True(page.Span[..5000].ToArray().All(b => b == 4) && page.Span[5000..(4 * Page)].ToArray().All(b => b == 0));
            }
            finally
            {
                page.Return();
            }
        });
    }

    private static ValueTask WriteAsync(IStorageFile file, AlignedBuffer page, long offset, int length, byte fill)
    {
        page.Span[..length].Fill(fill);
        return file.WriteAsync(page, 0, length, offset, dataSync: false);
    }
}
