using Eddy.Native;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

/// <summary>The zeros a log writes ahead of its data: appends land inside them, a crash leaves them behind for
/// recovery to skip, a clean close cuts them, and a failed fill costs nothing but speed.</summary>
public sealed class ZeroFillTests
{
    private static LogOptions Options(HeldSyncFiles files) => new() { Files = files, UseBatchCache = false, RetentionTime = null };

    [Fact]
    public async Task AppendsAfterTheFirstOverwriteSpaceAlreadyWrittenAheadOfThem()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        var result = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), Options(files));
            for (int i = 0; i < 50; i++)
            {
                await log.AppendAsync(Batches.Make(2, 4000));
            }
            return (files.Writes, files.ExtendingWrites, files.ZeroFills, data: log.Segments[^1].Size, file: new FileInfo(log.Segments[^1].DataPath).Length);
        });
        Assert.Equal(50, result.Writes);
        Assert.Equal(1, result.ExtendingWrites); // the first, into an empty file; the fill it started covers the rest
        Assert.InRange(result.ZeroFills, 1, 12); // chunks grow with the data: 64 KiB, then as much as is written
        Assert.True(result.file > result.data, $"file {result.file} bytes, data {result.data}: nothing written ahead");
    }

    [Fact]
    public async Task ACleanCloseCutsTheZerosAfterTheData()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        string dir = scope.LogDir();
        var (data, path) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options(files));
            for (int i = 0; i < 5; i++)
            {
                await log.AppendAsync(Batches.Make(1, 1000));
            }
            return (log.Segments[^1].Size, log.Segments[^1].DataPath);
        });
        Assert.True(files.ZeroFills > 0);
        Assert.Equal(data, new FileInfo(path).Length);
    }

    [Fact]
    public async Task ACrashLeavesZerosAfterTheDataAndRecoveryKeepsEveryBatchAndCutsThem()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        string dir = scope.LogDir();
        var (image, path, data) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options(files));
            for (int i = 0; i < 20; i++)
            {
                await log.AppendAsync(Batches.Make(3, 2000));
            }
            var segment = log.Segments[^1];
            for (int i = 0; i < 200 && new FileInfo(segment.DataPath).Length < segment.Size + (32 << 10); i++)
            {
                await Runtime.Shard.Current!.Delay(TimeSpan.FromMilliseconds(5)); // the fill runs beside the appends
            }
            await segment.File.FlushDataAsync(); // the zeros too, as a crash may well keep them
            // What a crash leaves: the file as it is while the log is open.
            return (await File.ReadAllBytesAsync(segment.DataPath), segment.DataPath, segment.Size);
        });
        Assert.True(image.Length >= data + (32 << 10), $"file {image.Length} bytes for {data} of data");
        Assert.True(image.AsSpan((int)data).IndexOfAnyExcept((byte)0) < 0);
        await File.WriteAllBytesAsync(path, image);
        var (end, count, size) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options(new HeldSyncFiles()));
            var all = await Batches.ReadAll(log, 0);
            long fileAfterRecovery = new FileInfo(path).Length;
            await log.AppendAsync(Batches.Make(1, 10));
            return (log.LogEndOffset, all.Count, fileAfterRecovery);
        });
        Assert.Equal(20, count);
        Assert.Equal(61, end);
        Assert.Equal(data, size);
    }

    [Fact]
    public async Task ATornTailBeforeZerosReachingPastTheUnsyncedLimitIsStillCutAsATornTail()
    {
        // The unsynced limit bounds how far after the damage written data can reach, not where the file ends: the
        // zeros written ahead may end further away than the limit.
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        string dir = scope.LogDir();
        var ends = new List<long>();
        string path = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options(files));
            for (int i = 0; i < 12; i++)
            {
                await log.AppendAsync(Batches.Make(1, 3000));
                ends.Add(log.Segments[^1].Size);
            }
            return log.Segments[^1].DataPath;
        });
        var bytes = new byte[ends[^1] + PartitionLog.UnsyncedLimitBytes + (1 << 20)];
        (await File.ReadAllBytesAsync(path)).CopyTo(bytes, 0);
        long lost = (ends[7] + 4095) / 4096 * 4096;
        Array.Clear(bytes, (int)lost, 4096);
        await File.WriteAllBytesAsync(path, bytes);
        var (end, count) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options(new HeldSyncFiles()));
            return (log.LogEndOffset, (await Batches.ReadAll(log, 0)).Count);
        });
        int survivors = ends.Count(e => e <= lost);
        Assert.Equal(survivors, count);
        Assert.Equal(survivors, end);
    }

    [Fact]
    public async Task AFailingZeroFillLeavesAppendsWorkingAsExtendingWrites()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles { FailZeroFillsWith = Errno.ENOSPC };
        string dir = scope.LogDir();
        var result = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options(files));
            int newPages = 0;
            for (int i = 0; i < 20; i++)
            {
                long pagesBefore = (log.Segments[^1].Size + 4095) / 4096;
                await log.AppendAsync(Batches.Make(1, 3000));
                newPages += (log.Segments[^1].Size + 4095) / 4096 > pagesBefore ? 1 : 0;
            }
            return (log.LogEndOffset, log.DurableOffset, (await Batches.ReadAll(log, 0)).Count, newPages);
        });
        Assert.Equal((20L, 20L, 20), (result.LogEndOffset, result.DurableOffset, result.Count));
        Assert.Equal(1, files.FailedZeroFills); // tried once, then not again for this segment
        Assert.Equal(0, files.ZeroFills);
        Assert.Equal(result.newPages, files.ExtendingWrites); // every append that reaches a new page extends the file
    }
}
