using Eddy.Storage;

namespace Eddy.Storage.Tests;

/// <summary>Crash cases: the log reopens with exactly the complete batches before the damage, or refuses to open.</summary>
public sealed class RecoveryTests
{
    private static readonly LogOptions NoCache = new() { UseBatchCache = false, RetentionTime = null };

    /// <summary>Writes batches and closes the log; returns each batch's (base offset, end byte) and the data size.</summary>
    private static Task<List<(long Base, long End)>> Build(StorageScope scope, string dir, int count, Func<int, byte[]> make, LogOptions? options = null)
        => scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options ?? NoCache);
            var ends = new List<(long, long)>();
            for (int i = 0; i < count; i++)
            {
                long b = await log.AppendAsync(make(i));
                ends.Add((b, log.Segments[^1].Size));
            }
            return ends;
        });

    private static string OnlySegment(string dir) => Directory.GetFiles(dir, "*.log").Single();

    [Fact]
    public async Task LastBatchCutAtEveryByteKeepsExactlyTheBatchesBefore()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var ends = await Build(scope, dir, 5, i => Batches.Make(1 + i, i == 4 ? 40 : 200));
        string path = OnlySegment(dir);
        long dataSize = ends[^1].End;
        long lastStart = ends[^2].End;
        var original = File.ReadAllBytes(path)[..(int)dataSize];
        var failures = await scope.Run(async () =>
        {
            var wrong = new List<string>();
            for (long cut = lastStart; cut < dataSize; cut++)
            {
                await File.WriteAllBytesAsync(path, original[..(int)cut]);
                await using var log = await PartitionLog.OpenAsync(dir, NoCache);
                if (log.LogEndOffset != ends[^1].Base || log.Segments[^1].Size != lastStart)
                {
                    wrong.Add($"cut at {cut}: end offset {log.LogEndOffset}, size {log.Segments[^1].Size}");
                }
                var all = await Batches.ReadAll(log, 0);
                if (all.Count != 4)
                {
                    wrong.Add($"cut at {cut}: {all.Count} batches");
                }
            }
            return wrong;
        });
        Assert.Empty(failures);
        Assert.Equal(lastStart, new FileInfo(path).Length); // the torn tail was cut from the file too
    }

    [Fact]
    public async Task GarbageAppendedIsCutAndEveryBatchKept()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var ends = await Build(scope, dir, 6, i => Batches.Make(2, 300 + i));
        string path = OnlySegment(dir);
        var data = File.ReadAllBytes(path)[..(int)ends[^1].End].ToList();
        var garbage = new byte[3000];
        new Random(42).NextBytes(garbage);
        data.AddRange(garbage);
        File.WriteAllBytes(path, data.ToArray());
        var (end, count) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, NoCache);
            var all = await Batches.ReadAll(log, 0);
            long next = await log.AppendAsync(Batches.Make(1, 5));
            return (next, all.Count);
        });
        Assert.Equal(12, end);
        Assert.Equal(6, count);
    }

    [Fact]
    public async Task LastPageZeroedKeepsTheBatchesThatEndBeforeIt()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var ends = await Build(scope, dir, 20, i => Batches.Make(1, 900));
        string path = OnlySegment(dir);
        long dataSize = ends[^1].End;
        var bytes = File.ReadAllBytes(path);
        Array.Clear(bytes, (int)dataSize - 4096, 4096);
        File.WriteAllBytes(path, bytes);
        int survivors = ends.Count(e => e.End <= dataSize - 4096);
        long end = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, NoCache);
            Assert.Equal(survivors, (await Batches.ReadAll(log, 0)).Count);
            return log.LogEndOffset;
        });
        Assert.Equal(survivors, end);
    }

    [Fact]
    public async Task BitFlippedMoreThanTheUnsyncedLimitBeforeTheEndIsReportedNotHidden()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        // 24 batches of ~256 KiB: batch 4 starts more than PartitionLog.UnsyncedLimitBytes before the end.
        var ends = await Build(scope, dir, 24, i => Batches.Make(2, 128 << 10));
        Assert.True(ends[^1].End - ends[3].End > PartitionLog.UnsyncedLimitBytes);
        string path = OnlySegment(dir);
        var bytes = File.ReadAllBytes(path);
        bytes[(int)ends[3].End + 200] ^= 0x10; // inside batch 4's records
        File.WriteAllBytes(path, bytes);
        var error = await Assert.ThrowsAsync<LogCorruptedException>(() => scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, NoCache);
        }));
        Assert.Contains("corruption before the tail", error.Message);
        Assert.Equal(bytes, File.ReadAllBytes(path)); // nothing was cut
    }

    [Fact]
    public async Task AnUnsyncedPageLostBeforeLaterOnesIsCutAsATornTail()
    {
        // Group commit leaves the last appends unsynced, and the disk may persist their pages in any order: a crash
        // can leave a page of zeros with valid batches after it. Nothing from there on was acknowledged.
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var ends = await Build(scope, dir, 12, i => Batches.Make(1, 3000));
        string path = OnlySegment(dir);
        var bytes = File.ReadAllBytes(path);
        long lost = (ends[7].End + 4095) / 4096 * 4096; // the first page boundary after batch 7
        Assert.True(lost + 4096 <= ends[10].End); // batch 11 lies whole after the lost page
        Array.Clear(bytes, (int)lost, 4096);
        File.WriteAllBytes(path, bytes);
        var (end, count) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, NoCache);
            var all = await Batches.ReadAll(log, 0);
            await log.AppendAsync(Batches.Make(1, 10));
            return (log.LogEndOffset, all.Count);
        });
        int survivors = ends.Count(e => e.End <= lost);
        Assert.Equal(survivors, count);
        Assert.Equal(survivors + 1, end);
    }

    [Fact]
    public async Task BitFlippedInAClosedSegmentWithoutIndexIsReported()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var options = new LogOptions { SegmentBytes = 8 << 10, UseBatchCache = false, RetentionTime = null };
        await Build(scope, dir, 20, i => Batches.Make(2, 1000), options);
        var first = Directory.GetFiles(dir, "0-*.log").Single();
        File.Delete(Path.ChangeExtension(first, ".index"));
        var bytes = File.ReadAllBytes(first);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(first, bytes);
        await Assert.ThrowsAsync<LogCorruptedException>(() => scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options);
        }));
    }

    [Fact]
    public async Task MissingOrStaleIndexIsRebuiltFromTheData()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var options = new LogOptions { SegmentBytes = 8 << 10, UseBatchCache = false, RetentionTime = null };
        await Build(scope, dir, 30, i => Batches.Make(2, 1000, timestamp: i * 10), options);
        var indexes = Directory.GetFiles(dir, "*.index").Order().ToArray();
        Assert.True(indexes.Length >= 3);
        File.Delete(indexes[0]);
        File.WriteAllBytes(indexes[1], new byte[4096]); // torn
        var found = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options);
            Assert.Equal(60, (await Batches.ReadAll(log, 0)).Sum(b => b.Count));
            return await log.FindOffsetByTimestampAsync(105);
        });
        Assert.Equal(22, found);
        Assert.True(File.Exists(indexes[0]));
        Assert.NotEqual(new byte[4096], File.ReadAllBytes(indexes[1]));
    }

    [Fact]
    public async Task ASegmentWithNoValidBatchIsSetAsideNotDeleted()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var options = new LogOptions { SegmentBytes = 8 << 10, UseBatchCache = false, RetentionTime = null };
        await Build(scope, dir, 12, i => Batches.Make(1, 1500), options);
        var segments = Directory.GetFiles(dir, "*.log").OrderBy(p => long.Parse(Path.GetFileName(p).Split('-')[0])).ToArray();
        var last = segments[^1];
        long lastBase = long.Parse(Path.GetFileName(last).Split('-')[0]);
        var garbage = new byte[5000];
        new Random(7).NextBytes(garbage);
        File.WriteAllBytes(last, garbage);
        long end = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, options);
            long e = log.LogEndOffset;
            Assert.Equal(e, await log.AppendAsync(Batches.Make(1, 10)));
            return e;
        });
        Assert.Equal(lastBase, end);
        Assert.Equal(garbage, File.ReadAllBytes(last + ".aside"));
    }

    [Fact]
    public async Task AppendsContinueCorrectlyAfterRecoveringATornTail()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var ends = await Build(scope, dir, 3, i => Batches.Make(1, 5000));
        string path = OnlySegment(dir);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(ends[^1].End - 100)]);
        var all = await scope.Run(async () =>
        {
            await using (var log = await PartitionLog.OpenAsync(dir, NoCache))
            {
                Assert.Equal(2, await log.AppendAsync(Batches.Make(1, 7000)));
                Assert.Equal(3, await log.AppendAsync(Batches.Make(1, 10)));
            }
            await using var again = await PartitionLog.OpenAsync(dir, NoCache);
            return await Batches.ReadAll(again, 0);
        });
        Assert.Equal(new long[] { 0, 1, 2, 3 }, all.Select(b => b.Base));
    }
}
