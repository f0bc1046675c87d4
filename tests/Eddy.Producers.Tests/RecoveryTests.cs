using Eddy.Cluster.Producers;
using Eddy.Storage;

namespace Eddy.Producers.Tests;

/// <summary>
/// Producer state survives a restart: idempotent batches appended to a real partition log on a shard, the log
/// closed and reopened, and the state rebuilt from snapshots and the log tail.
/// </summary>
public class RecoveryTests
{
    private static readonly LogOptions Options = new() { SegmentBytes = 4 << 10, PreallocateBytes = 64 << 10, RetentionTime = null };

    /// <summary>Appends <paramref name="batches"/> batches of 5 records for each of producers 1..3 (epoch 0), with a
    /// batch of a plain producer between; returns the base offset of every idempotent batch by (producer, index).</summary>
    private static async ValueTask<Dictionary<(long, int), long>> ProduceAsync(ProducerAppender appender, int batches, int firstBatch = 0)
    {
        var offsets = new Dictionary<(long, int), long>();
        for (int b = firstBatch; b < firstBatch + batches; b++)
        {
            for (long pid = 1; pid <= 3; pid++)
            {
                var result = await appender.AppendAsync(ProducerBatches.Make(pid, 0, b * 5, 5, timestamp: NowMs));
                Assert.Equal(0, result.ErrorCode);
                Assert.False(result.Duplicate);
                offsets[(pid, b)] = result.BaseOffset;
            }
            await appender.AppendAsync(ProducerBatches.Plain(2, NowMs));
        }
        return offsets;
    }

    private static readonly long NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>What a client retrying after the restart sees: every one of the last five batches is a duplicate with
    /// its original offset, the sixth back is out of order, and the next batch appends right after the log end.</summary>
    private static async ValueTask AssertRetriesAfterRestart(ProducerAppender appender, Dictionary<(long, int), long> offsets, int batches, bool appendNext = true)
    {
        long end = appender.Log.LogEndOffset;
        for (long pid = 1; pid <= 3; pid++)
        {
            for (int b = batches - 5; b < batches; b++)
            {
                var retry = await appender.AppendAsync(ProducerBatches.Make(pid, 0, b * 5, 5, timestamp: NowMs));
                Assert.True(retry.Duplicate, $"producer {pid} batch {b}");
                Assert.Equal(offsets[(pid, b)], retry.BaseOffset);
                Assert.Equal(offsets[(pid, b)] + 4, retry.LastOffset);
            }
            var stale = await appender.AppendAsync(ProducerBatches.Make(pid, 0, (batches - 6) * 5, 5, timestamp: NowMs));
            Assert.Equal(45, stale.ErrorCode);
            var fenced = await appender.AppendAsync(ProducerBatches.Make(pid, -1, batches * 5, 5, timestamp: NowMs));
            Assert.Equal(47, fenced.ErrorCode);
        }
        Assert.Equal(end, appender.Log.LogEndOffset); // nothing was appended twice
        if (!appendNext)
        {
            return;
        }
        var next = await appender.AppendAsync(ProducerBatches.Make(1, 0, batches * 5, 5, timestamp: NowMs));
        Assert.Equal(0, next.ErrorCode);
        Assert.Equal(end, next.BaseOffset);
    }

    [Theory]
    [InlineData(false)] // crash: no snapshot, the whole log is replayed
    [InlineData(true)]  // clean close: a snapshot at the log end, nothing to replay
    public async Task StateSurvivesReopen(bool snapshotAtClose)
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        const int Batches = 40;
        var offsets = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            var load = await ProducerStateLoader.LoadAsync(log, NowMs);
            var appender = new ProducerAppender(log, load.Table);
            var offsets = await ProduceAsync(appender, Batches);
            if (snapshotAtClose)
            {
                await appender.SnapshotAsync();
            }
            return offsets;
        });
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            Assert.True(log.Segments.Count > 1);
            var load = await ProducerStateLoader.LoadAsync(log, NowMs);
            Assert.Equal(3, load.Table.Count);
            if (snapshotAtClose)
            {
                Assert.Equal(log.LogEndOffset, load.SnapshotOffset);
                Assert.Equal(0, load.ReplayedBatches);
            }
            else
            {
                Assert.Equal(-1, load.SnapshotOffset);
                Assert.Equal(3 * Batches, load.ReplayedBatches);
            }
            await AssertRetriesAfterRestart(new ProducerAppender(log, load.Table), offsets, Batches);
        });
    }

    [Fact]
    public async Task SnapshotPlusTailEqualsFullReplay()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var offsets = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            var appender = new ProducerAppender(log, (await ProducerStateLoader.LoadAsync(log, NowMs)).Table);
            var offsets = await ProduceAsync(appender, 20);
            await appender.SnapshotAsync();
            foreach (var (key, value) in await ProduceAsync(appender, 3, firstBatch: 20))
            {
                offsets[key] = value;
            }
            return offsets;
        });
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            var load = await ProducerStateLoader.LoadAsync(log, NowMs);
            Assert.True(load.SnapshotOffset > 0);
            Assert.Equal(9, load.ReplayedBatches);
            var full = new ProducerStateTable();
            await ProducerStateLoader.ReplayAsync(log, full, log.StartOffset);
            SnapshotTests.AssertSameState(full, load.Table);
            await AssertRetriesAfterRestart(new ProducerAppender(log, load.Table), offsets, 23);
        });
    }

    [Fact]
    public async Task DamagedSnapshotFallsBackToTheLog()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        var offsets = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            var appender = new ProducerAppender(log, (await ProducerStateLoader.LoadAsync(log, NowMs)).Table);
            var offsets = await ProduceAsync(appender, 10);
            await appender.SnapshotAsync();
            foreach (var (key, value) in await ProduceAsync(appender, 10, firstBatch: 10))
            {
                offsets[key] = value;
            }
            await appender.SnapshotAsync();
            return offsets;
        });
        var snapshots = await scope.Run(() => ProducerSnapshot.ListAsync(dir));
        Assert.Equal(2, snapshots.Count);
        string newest = Path.Combine(dir, ProducerSnapshot.FileName(snapshots[1]));
        var bytes = File.ReadAllBytes(newest);
        bytes[^3] ^= 0xFF;
        File.WriteAllBytes(newest, bytes);
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            var load = await ProducerStateLoader.LoadAsync(log, NowMs);
            Assert.Equal(1, load.RejectedSnapshots);
            Assert.Equal(snapshots[0], load.SnapshotOffset); // the older snapshot, then the tail after it
            Assert.Equal(30, load.ReplayedBatches);
            await AssertRetriesAfterRestart(new ProducerAppender(log, load.Table), offsets, 20, appendNext: false);
        });
        Assert.False(File.Exists(newest));

        // Both damaged: a full replay gives the same answers.
        File.WriteAllBytes(Path.Combine(dir, ProducerSnapshot.FileName(snapshots[0])), [1, 2, 3]);
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            var load = await ProducerStateLoader.LoadAsync(log, NowMs);
            Assert.Equal(-1, load.SnapshotOffset);
            Assert.Equal(1, load.RejectedSnapshots);
            await AssertRetriesAfterRestart(new ProducerAppender(log, load.Table), offsets, 20);
        });
    }

    [Fact]
    public async Task SnapshotBeyondTheLogEndIsDropped()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            var appender = new ProducerAppender(log, (await ProducerStateLoader.LoadAsync(log, NowMs)).Table);
            await ProduceAsync(appender, 4);
            long cut = log.LogEndOffset;
            await ProduceAsync(appender, 4, firstBatch: 4);
            await appender.SnapshotAsync();
            await log.TruncateAsync(cut); // the log lost its tail; the snapshot still describes it
        });
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            var load = await ProducerStateLoader.LoadAsync(log, NowMs);
            Assert.Equal(1, load.RejectedSnapshots);
            Assert.Equal(-1, load.SnapshotOffset);
            Assert.True(load.Table.TryGet(1, out var p1));
            Assert.Equal(19, p1.LastSequence); // batches 0..3 only
            Assert.Empty(await ProducerSnapshot.ListAsync(dir));
        });
    }

    [Fact]
    public async Task ExpiredProducersAreNotRestored()
    {
        using var scope = new StorageScope();
        string dir = scope.LogDir();
        await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            var appender = new ProducerAppender(log, new ProducerStateTable());
            await appender.AppendAsync(ProducerBatches.Make(1, 0, 0, 3, timestamp: 1_000));
            await appender.AppendAsync(ProducerBatches.Make(2, 0, 0, 3, timestamp: 50_000));
        });
        var count = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(dir, Options);
            var load = await ProducerStateLoader.LoadAsync(log, nowMs: 60_000, expirationMs: 30_000);
            return load.Table.Count;
        });
        Assert.Equal(1, count);
    }
}
