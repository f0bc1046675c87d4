using System.Runtime.CompilerServices;
using Eddy.Buffers;
using Eddy.Records;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

/// <summary>Wraps the real file layer and records every read: (file, offset asked, length asked, bytes read).</summary>
public sealed class CountingFiles : IFileLayer
{
    public List<(string Path, long Offset, int Length, int Read)> Reads { get; } = [];

    public IStorageFile Open(string path, bool create) => new File(DirectFileLayer.Instance.Open(path, create), this);

    public ValueTask SyncDirectoryAsync(string directory) => DirectFileLayer.Instance.SyncDirectoryAsync(directory);

    private sealed class File(IStorageFile inner, CountingFiles owner) : IStorageFile
    {
        public string Path => inner.Path;
        public long Size => inner.Size;

        // Pooled, as IStorageFile's contract asks: the read path resumes inline after this completes.
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<int> ReadAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset)
        {
            int n = await inner.ReadAsync(buffer, bufferOffset, length, fileOffset);
            owner.Reads.Add((Path, fileOffset, length, n));
            return n;
        }

        public ValueTask WriteAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset, bool dataSync)
            => inner.WriteAsync(buffer, bufferOffset, length, fileOffset, dataSync);

        public ValueTask FlushDataAsync() => inner.FlushDataAsync();

        public ValueTask AllocateAsync(long offset, long length, bool extendSize) => inner.AllocateAsync(offset, length, extendSize);

        public void Truncate(long length) => inner.Truncate(length);

        public void Dispose() => inner.Dispose();
    }
}

public sealed class SegmentReaderTests
{
    // Sizes that straddle blocks and windows: small batches, ones near a block, and ones larger than a window.
    private static readonly int[] ValueSizes = [40, 3_000, 50_000, 300_000, 1_200_000, 2_500_000, 5_000_000, 700, 90_000];

    private static LogOptions Options(IFileLayer? files = null) => new()
    {
        UseBatchCache = false,
        RetentionTime = null,
        FlushEveryAppend = false,
        FlushBytes = long.MaxValue,
        SegmentBytes = 1L << 30,
        Files = files ?? DirectFileLayer.Instance,
    };

    /// <summary>Appends <paramref name="count"/> batches of varied sizes (value bytes = the batch's index) and seals the
    /// segment; returns (base offset, next offset) per batch.</summary>
    private static async ValueTask<List<(long Base, long Next)>> FillAsync(PartitionLog log, int count, byte fillFrom = 0)
    {
        var batches = new List<(long, long)>();
        for (int i = 0; i < count; i++)
        {
            int records = 1 + i % 3;
            long baseOffset = await log.AppendAsync(Batches.Make(records, ValueSizes[i % ValueSizes.Length] / records, fill: (byte)(fillFrom + i)));
            batches.Add((baseOffset, baseOffset + records));
        }
        await log.RollAsync();
        return batches;
    }

    /// <summary>CRC, offsets and value bytes of every batch in a read, against what was appended.</summary>
    private static void Verify(LogRead read, List<(long Base, long Next)> batches, byte fillFrom = 0)
    {
        var span = read.Records.Span;
        Assert.False(span.IsEmpty);
        int index = batches.FindIndex(b => b.Base == read.FirstOffset);
        Assert.True(index >= 0, $"no batch starts at {read.FirstOffset}");
        for (int at = 0; at < span.Length; index++)
        {
            Assert.Equal(BatchCheck.Ok, RecordBatch.Check(span[at..], verifyCrc: true, out int size));
            var header = new RecordBatch(span[at..]);
            Assert.Equal(batches[index].Base, header.BaseOffset);
            Assert.Equal(batches[index].Next, header.LastOffset + 1);
            Assert.Equal((byte)(fillFrom + index), span[at + size - 2]); // last value byte (then an empty header count)
            at += size;
        }
        Assert.Equal(batches[index - 1].Next, read.NextOffset);
    }

    [Theory]
    [InlineData(1 << 20)]
    [InlineData(64 << 10)]
    [InlineData(3 << 20)]
    public async Task SequentialReadsReadEveryByteOnceInAlignedBlocks(int maxBytes)
    {
        using var scope = new StorageScope();
        var files = new CountingFiles();
        var (reads, size, path) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Options(files));
            var batches = await FillAsync(log, 30);
            files.Reads.Clear();
            long offset = 0;
            while (offset < log.LogEndOffset)
            {
                using var read = await log.ReadAsync(offset, maxBytes);
                Verify(read, batches);
                Assert.True(read.Records.Length <= maxBytes || read.NextOffset == batches.Find(b => b.Base == read.FirstOffset).Next);
                offset = read.NextOffset;
            }
            return (files.Reads.ToList(), log.Segments[0].Size, log.Segments[0].DataPath);
        });
        Assert.All(reads, r => Assert.Equal(path, r.Path));
        long next = 0;
        foreach (var (_, offset, length, read) in reads.OrderBy(r => r.Offset))
        {
            Assert.Equal(next, offset); // no byte read twice, none skipped
            Assert.Equal(0, offset % SegmentReader.IoSize); // every read starts on a block...
            Assert.True(length == SegmentReader.IoSize || offset + length >= size, $"read of {length} at {offset}"); // ...and is one, but at the end
            next += read;
        }
        Assert.Equal(size, next);
    }

    [Fact]
    public async Task BatchesNearTheLargestSizeAreReadWholeFromAnyPlaceInABlock()
    {
        using var scope = new StorageScope();
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Options());
            var batches = new List<(long Base, long Next)>();
            int largest = PartitionLog.MaxBatchSize - 200;
            int[] sizes = [700_000, largest, 300, largest, 1_000_000, largest];
            for (int i = 0; i < sizes.Length; i++)
            {
                long b = await log.AppendAsync(Batches.Make(1, sizes[i], fill: (byte)i));
                batches.Add((b, b + 1));
            }
            await log.RollAsync();
            foreach (int maxBytes in new[] { 1, 64 << 10, 16 << 20 })
            {
                long offset = 0;
                while (offset < log.LogEndOffset)
                {
                    using var read = await log.ReadAsync(offset, maxBytes);
                    Verify(read, batches);
                    offset = read.NextOffset;
                }
            }
        });
    }

    [Fact]
    public async Task ViewsStayValidWhileLaterReadsGrowTheirWindowAndAllMemoryGoesBack()
    {
        using var scope = new StorageScope();
        var (outstandingBefore, outstandingAfter) = await scope.Run(async () =>
        {
            int before = Shard.Current!.Buffers.Outstanding;
            var held = new List<LogRead>();
            List<(long, long)> batches;
            await using (var log = await PartitionLog.OpenAsync(scope.LogDir(), Options()))
            {
                batches = await FillAsync(log, 40);
                long offset = 0;
                while (offset < log.LogEndOffset)
                {
                    var read = await log.ReadAsync(offset, 100_000);
                    held.Add(read);
                    offset = read.NextOffset;
                }
                foreach (var read in held)
                {
                    Verify(read, batches);
                }
            }
            foreach (var read in held)
            {
                Verify(read, batches); // the log is closed: the views still hold their memory
                read.Dispose();
            }
            return (before, Shard.Current.Buffers.Outstanding);
        });
        Assert.Equal(outstandingBefore, outstandingAfter);
    }

    [Fact]
    public async Task InterleavedConsumersAndRandomReadsEachGetTheirBatches()
    {
        using var scope = new StorageScope();
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Options());
            var batches = await FillAsync(log, 45);
            var random = new Random(4);
            // More consumers than a reader keeps windows for, so they also take each other's places.
            var cursors = Enumerable.Range(0, SegmentReader.MaxKept + 2).Select(i => batches[i * 7].Base).ToArray();
            for (int round = 0; round < 60; round++)
            {
                int c = random.Next(cursors.Length);
                if (cursors[c] >= log.LogEndOffset)
                {
                    cursors[c] = 0;
                }
                using (var read = await log.ReadAsync(cursors[c], random.Next(1, 3 << 20)))
                {
                    Verify(read, batches);
                    Assert.True(read.FirstOffset <= cursors[c] && cursors[c] < read.NextOffset);
                    cursors[c] = read.NextOffset;
                }
                long anywhere = random.NextInt64(log.LogEndOffset);
                using (var read = await log.ReadAsync(anywhere, random.Next(1, 2 << 20)))
                {
                    Verify(read, batches);
                    Assert.True(read.FirstOffset <= anywhere && anywhere < read.NextOffset);
                }
            }
        });
    }

    [Fact]
    public async Task AfterATruncationReadsSeeTheNewBatchesNotWhatAWindowHeld()
    {
        using var scope = new StorageScope();
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Options());
            var old = new List<(long Base, long Next)>();
            for (int i = 0; i < 40; i++)
            {
                long b = await log.AppendAsync(Batches.Make(2, 20_000, fill: 1));
                old.Add((b, b + 2));
            }
            // Read the first half in small steps: the window read ahead holds batches past the cut.
            long cut = old[20].Base;
            long offset = 0;
            while (offset < cut)
            {
                using var read = await log.ReadAsync(offset, 30_000);
                offset = read.NextOffset;
            }
            await log.TruncateAsync(cut);
            for (int i = 0; i < 20; i++)
            {
                await log.AppendAsync(Batches.Make(2, 20_000, fill: 2));
            }
            using var after = await log.ReadAsync(cut, 30_000);
            Assert.Equal(cut, after.FirstOffset);
            var span = after.Records.Span;
            Assert.Equal(BatchCheck.Ok, RecordBatch.Check(span, verifyCrc: true, out int size));
            Assert.Equal(2, span[size - 2]);
        });
    }

    [Fact]
    public async Task KeptWindowsStayWithinTheShardBudget()
    {
        using var scope = new StorageScope();
        await scope.Run(async () =>
        {
            var budget = new ReadWindowBudget(SegmentReader.WindowSize + 1);
            var logs = new List<PartitionLog>();
            var readers = new List<SegmentReader>();
            try
            {
                for (int i = 0; i < 3; i++)
                {
                    var log = await PartitionLog.OpenAsync(scope.LogDir($"log{i}"), Options());
                    logs.Add(log);
                    await FillAsync(log, 12);
                    readers.Add(new SegmentReader(Shard.Current!.Buffers, budget));
                }
                for (int round = 0; round < 3; round++)
                {
                    for (int i = 0; i < logs.Count; i++)
                    {
                        using var read = await readers[i].ReadAsync(logs[i].Segments[0], round * 2, 200_000);
                        Assert.True(read.FirstOffset <= round * 2 && round * 2 < read.NextOffset);
                        Assert.True(budget.Bytes <= budget.Capacity, $"{budget.Bytes} B kept, budget {budget.Capacity}");
                    }
                }
                Assert.True(budget.Bytes > 0);
            }
            finally
            {
                foreach (var reader in readers)
                {
                    reader.Dispose();
                }
                foreach (var log in logs)
                {
                    await log.DisposeAsync();
                }
            }
            Assert.Equal(0, budget.Bytes);
        });
    }
}
