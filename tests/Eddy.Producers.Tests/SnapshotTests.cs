using Eddy.Cluster.Producers;
using Eddy.Storage;

namespace Eddy.Producers.Tests;

/// <summary>Snapshot files: written durably, read back exactly, and distrusted when damaged.</summary>
public class SnapshotTests
{
    private static ProducerStateTable SampleTable()
    {
        var table = new ProducerStateTable();
        long offset = 0;
        // Producer 1: seven batches (five retained); producer 2: one batch crossing Int32.MaxValue; producer 3 at a
        // bumped epoch.
        for (int i = 0; i < 7; i++)
        {
            table.Record(1, 0, i * 10, 9, offset, 10_000 + i);
            offset += 10;
        }
        table.Record(2, 3, int.MaxValue - 1, 4, offset, 20_000);
        offset += 5;
        table.Record(3, 0, 0, 0, offset++, 30_000);
        table.Record(3, 1, 0, 1, offset, 30_001);
        return table;
    }

    internal static void AssertSameState(ProducerStateTable expected, ProducerStateTable actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var e in expected.Producers)
        {
            Assert.True(actual.TryGet(e.ProducerId, out var a), $"producer {e.ProducerId} missing");
            Assert.Equal(e.Epoch, a.Epoch);
            Assert.Equal(e.LastTimestamp, a.LastTimestamp);
            Assert.Equal(e.BatchCount, a.BatchCount);
            for (int i = 0; i < e.BatchCount; i++)
            {
                Assert.Equal(e.GetBatch(i), a.GetBatch(i));
            }
        }
    }

    [Fact]
    public async Task RoundTripKeepsEveryRetainedBatch()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        Directory.CreateDirectory(dir);
        var table = SampleTable();
        var read = await scope.Run(async () =>
        {
            await ProducerSnapshot.WriteAsync(dir, table, 80);
            var into = new ProducerStateTable();
            await ProducerSnapshot.ReadAsync(dir, 80, into);
            return into;
        });
        AssertSameState(table, read);
        Assert.True(read.TryGet(1, out var p1));
        Assert.Equal(5, p1.BatchCount);
        Assert.Equal(20, p1.GetBatch(0).BaseOffset);
        Assert.Equal(0, table.BatchesSinceSnapshot);
        Assert.Equal(["80.snapshot"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task LargeSnapshotSpansSeveralWriteChunks()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        Directory.CreateDirectory(dir);
        var table = new ProducerStateTable();
        for (long pid = 0; pid < 20_000; pid++)
        {
            for (int b = 0; b < 5; b++)
            {
                table.Record(pid, (short)(pid % 7), b * 3, 2, pid * 100 + b * 3, pid + b);
            }
        }
        var read = await scope.Run(async () =>
        {
            await ProducerSnapshot.WriteAsync(dir, table, 3_000_000);
            var into = new ProducerStateTable();
            await ProducerSnapshot.ReadAsync(dir, 3_000_000, into);
            return into;
        });
        Assert.True(new FileInfo(Path.Combine(dir, "3000000.snapshot")).Length > 3 << 20);
        AssertSameState(table, read);
    }

    [Fact]
    public async Task KeepsTheNewestTwoAndDeletesAboveATruncation()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        Directory.CreateDirectory(dir);
        var table = SampleTable();
        await scope.Run(async () =>
        {
            foreach (long offset in new long[] { 80, 90, 100, 110 })
            {
                await ProducerSnapshot.WriteAsync(dir, table, offset);
            }
        });
        Assert.Equal([100L, 110L], await scope.Run(() => ProducerSnapshot.ListAsync(dir)));
        await scope.Run(() => ProducerSnapshot.DeleteAboveAsync(dir, 105));
        Assert.Equal([100L], await scope.Run(() => ProducerSnapshot.ListAsync(dir)));
    }

    [Theory]
    [InlineData("flip")]     // a bit flipped inside: CRC mismatch
    [InlineData("cut")]      // torn: the file ends early
    [InlineData("empty")]
    [InlineData("renamed")]  // a valid snapshot under another offset's name
    public async Task DamagedSnapshotIsRefused(string damage)
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        Directory.CreateDirectory(dir);
        var table = SampleTable();
        await scope.Run(() => ProducerSnapshot.WriteAsync(dir, table, 80));
        string path = Path.Combine(dir, "80.snapshot");
        var bytes = File.ReadAllBytes(path);
        long readAt = 80;
        switch (damage)
        {
            case "flip":
                bytes[bytes.Length / 2] ^= 0x10;
                File.WriteAllBytes(path, bytes);
                break;
            case "cut":
                File.WriteAllBytes(path, bytes[..(bytes.Length - 7)]);
                break;
            case "empty":
                File.WriteAllBytes(path, []);
                break;
            case "renamed":
                File.Move(path, Path.Combine(dir, "81.snapshot"));
                readAt = 81;
                break;
        }
        await Assert.ThrowsAsync<CorruptSnapshotException>(() => scope.Run(() => ProducerSnapshot.ReadAsync(dir, readAt, new ProducerStateTable())));
    }

    [Fact]
    public async Task WriteFailureLeavesNoSnapshotBehind()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        Directory.CreateDirectory(dir);
        var files = new FailingFlushLayer();
        await Assert.ThrowsAnyAsync<Exception>(() => scope.Run(() => ProducerSnapshot.WriteAsync(dir, SampleTable(), 80, files)));
        Assert.Empty(await scope.Run(() => ProducerSnapshot.ListAsync(dir))); // only the temporary file, which the loader removes
    }

    /// <summary>The real file layer, except that fdatasync fails.</summary>
    private sealed class FailingFlushLayer : IFileLayer
    {
        public IStorageFile Open(string path, bool create) => new File(DirectFileLayer.Instance.Open(path, create));

        public ValueTask SyncDirectoryAsync(string directory) => DirectFileLayer.Instance.SyncDirectoryAsync(directory);

        private sealed class File(IStorageFile inner) : IStorageFile
        {
            public string Path => inner.Path;
            public long Size => inner.Size;
            public ValueTask<int> ReadAsync(Eddy.Buffers.AlignedBuffer buffer, int bufferOffset, int length, long fileOffset) => inner.ReadAsync(buffer, bufferOffset, length, fileOffset);
            public ValueTask WriteAsync(Eddy.Buffers.AlignedBuffer buffer, int bufferOffset, int length, long fileOffset, bool dataSync) => inner.WriteAsync(buffer, bufferOffset, length, fileOffset, dataSync);
            public ValueTask FlushDataAsync() => ValueTask.FromException(new IOException("injected fdatasync failure"));
            public ValueTask AllocateAsync(long offset, long length, bool extendSize) => inner.AllocateAsync(offset, length, extendSize);
            public void Truncate(long length) => inner.Truncate(length);
            public void Dispose() => inner.Dispose();
        }
    }
}
