using Eddy.Native;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

/// <summary>Appends written while an fdatasync runs share the next one; none completes before it is durable.</summary>
public sealed class GroupCommitTests
{
    private static async Task Settle() => await Runtime.Shard.Current!.Delay(TimeSpan.FromMilliseconds(30));

    /// <summary>Waits (on the shard) until the log end reaches <paramref name="end"/>, then a little more, so that
    /// anything that could still be written would be: real writes take their time on a loaded machine.</summary>
    private static async Task SettleAt(PartitionLog log, long end)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (log.LogEndOffset < end && DateTime.UtcNow < deadline)
        {
            await Runtime.Shard.Current!.Delay(TimeSpan.FromMilliseconds(5));
        }
        await Settle();
    }

    /// <summary>Opens the log on the held files and appends two records, durable before anything is held.</summary>
    private static async Task<PartitionLog> OpenWithTwoRecordsAsync(StorageScope scope, HeldSyncFiles files)
    {
        var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions { Files = files });
        await log.AppendAsync(Batches.Make(2, 100));
        return log;
    }

    /// <summary>Starts <paramref name="count"/> appends without waiting for any.</summary>
    private static List<Task<long>> StartAppends(PartitionLog log, int count, Func<int, byte[]> make)
        => Enumerable.Range(0, count).Select(i => log.AppendAsync(make(i)).AsTask()).ToList();

    [Fact]
    public async Task AppendsWrittenDuringAnFdatasyncCompleteTogetherAfterTheNextOne()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        var result = await scope.Run(async () =>
        {
            await using var log = await OpenWithTwoRecordsAsync(scope, files);
            int syncsBefore = files.Syncs;
            files.Hold();
            var first = log.AppendAsync(Batches.Make(2, 100)).AsTask(); // written; its fdatasync is held
            await Settle();
            var later = StartAppends(log, 20, _ => Batches.Make(1, 100)); // written while that fdatasync is held
            await SettleAt(log, 24);
            var whileHeld = (first.IsCompleted, later.Any(t => t.IsCompleted), log.DurableOffset, log.LogEndOffset, files.Syncs - syncsBefore);
            files.Release();
            long firstOffset = await first;
            var offsets = await Task.WhenAll(later);
            return (whileHeld, firstOffset, offsets, syncs: files.Syncs - syncsBefore, log.DurableOffset, log.LogEndOffset);
        });
        Assert.False(result.whileHeld.Item1, "an append completed before its fdatasync");
        Assert.False(result.whileHeld.Item2, "an append completed before any fdatasync covered it");
        Assert.Equal(2, result.whileHeld.Item3);
        Assert.Equal(24, result.whileHeld.Item4); // all written: the log end moved while the fdatasync was held
        Assert.Equal(1, result.whileHeld.Item5);
        Assert.Equal(2, result.firstOffset);
        Assert.Equal(Enumerable.Range(4, 20).Select(i => (long)i), result.offsets);
        Assert.Equal(2, result.syncs); // the held one, then one for all twenty
        Assert.Equal(24, result.DurableOffset);
        Assert.Equal(24, result.LogEndOffset);
    }

    [Fact]
    public async Task AFailedGroupCommitFailsEveryAppendWaitingAndStopsTheLog()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        var result = await scope.Run(async () =>
        {
            await using var log = await OpenWithTwoRecordsAsync(scope, files);
            files.Hold();
            var waiting = StartAppends(log, 5, _ => Batches.Make(1, 100));
            await SettleAt(log, 7);
            files.Release(fail: true);
            var errors = new List<Exception>();
            foreach (var t in waiting)
            {
                errors.Add(await Assert.ThrowsAsync<LogFailedException>(() => t));
            }
            files.Fail = false; // the disk "recovers": the log must still refuse
            var after = await Assert.ThrowsAsync<LogFailedException>(async () => await log.AppendAsync(Batches.Make(1, 100)));
            return (errors, after, log.DurableOffset, log.LogEndOffset);
        });
        Assert.Equal(5, result.errors.Count);
        Assert.All(result.errors, e => Assert.Contains("stopped", e.Message));
        Assert.Contains("stopped", result.after.Message);
        Assert.Equal(2, result.DurableOffset); // nothing after the last good fdatasync is called durable
        Assert.Equal(7, result.LogEndOffset);
    }

    [Fact]
    public async Task AnAppendWaitsWhenTheUnsyncedBytesWouldPassTheLimit()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        int batchBytes = PartitionLog.UnsyncedLimitBytes / 4 - (64 << 10); // four fit under the limit, five do not
        var result = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), new LogOptions { Files = files, UseBatchCache = false });
            files.Hold();
            var appends = StartAppends(log, 6, _ => Batches.Make(1, batchBytes));
            await SettleAt(log, 4);
            long endWhileHeld = log.LogEndOffset;
            files.Release();
            await Task.WhenAll(appends);
            return (endWhileHeld, log.DurableOffset, log.LogEndOffset);
        });
        Assert.Equal(4, result.endWhileHeld);
        Assert.Equal(6, result.DurableOffset);
        Assert.Equal(6, result.LogEndOffset);
    }

    [Fact]
    public async Task AppendsQueuedBehindASlowWriteGoOutInOneWriteInOrder()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        var result = await scope.Run(async () =>
        {
            await using var log = await OpenWithTwoRecordsAsync(scope, files);
            int writesBefore = files.Writes;
            files.HoldWrites();
            var first = log.AppendAsync(Batches.Make(1, 100)).AsTask();
            await Settle();
            var queued = StartAppends(log, 10, i => Batches.Make(1 + i % 3, 200));
            await Settle();
            var whileHeld = (queued.Any(t => t.IsCompleted), log.LogEndOffset, files.Writes - writesBefore);
            files.ReleaseWrites();
            await first;
            var offsets = await Task.WhenAll(queued);
            var all = await Batches.ReadAll(log, 0);
            return (whileHeld, offsets, writes: files.Writes - writesBefore, all, log.LogEndOffset, log.DurableOffset);
        });
        Assert.False(result.whileHeld.Item1);
        Assert.Equal(2, result.whileHeld.Item2); // nothing visible while the first write is held
        Assert.Equal(1, result.whileHeld.Item3);
        Assert.Equal(2, result.writes); // the held write, then one for all ten queued behind it
        long expected = 3;
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(expected, result.offsets[i]);
            expected += 1 + i % 3;
        }
        Assert.Equal(expected, result.LogEndOffset);
        Assert.Equal(expected, result.DurableOffset);
        Assert.Equal(12, result.all.Count); // every batch reads back whole, in order
        Assert.Equal(result.all.Select(b => b.Base).Order(), result.all.Select(b => b.Base));
    }

    [Fact]
    public async Task AQueuedFollowerAppendNotAtTheLogEndIsRefusedAloneAndTheRestGoOn()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        var result = await scope.Run(async () =>
        {
            await using var log = await OpenWithTwoRecordsAsync(scope, files);
            files.HoldWrites();
            var first = log.AppendAsync(Batches.Make(1, 100)).AsTask();
            await Settle();
            // A follower-mode append in the queue is refused on its own at its turn (it does not start at the log end);
            // the leader appends behind it still go out.
            var wrong = log.AppendAsync(Batches.Make(1, 100), assignOffsets: false).AsTask();
            var after = log.AppendAsync(Batches.Make(1, 100)).AsTask();
            await Settle();
            files.ReleaseWrites();
            await first;
            var error = await Assert.ThrowsAsync<ArgumentException>(() => wrong);
            long afterOffset = await after;
            return (error.Message, afterOffset, log.LogEndOffset);
        });
        Assert.Contains("but the log ends at", result.Message);
        Assert.Equal(3, result.afterOffset);
        Assert.Equal(4, result.LogEndOffset);
    }

    [Fact]
    public async Task AFullDiskFailsEveryAppendInACoalescedWriteAndShowsNoneOfThem()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        var result = await scope.Run(async () =>
        {
            await using var log = await OpenWithTwoRecordsAsync(scope, files);
            files.HoldWrites();
            var first = log.AppendAsync(Batches.Make(1, 100)).AsTask();
            await Settle();
            var queued = StartAppends(log, 5, _ => Batches.Make(1, 100));
            await Settle();
            files.FailNextWriteWith = Errno.ENOSPC; // the write that carries the five queued appends
            files.ReleaseWrites();
            long firstOffset = await first;
            var errors = new List<DiskFullException>();
            foreach (var t in queued)
            {
                errors.Add(await Assert.ThrowsAsync<DiskFullException>(() => t));
            }
            long endAfterFailure = log.LogEndOffset;
            long retried = await log.AppendAsync(Batches.Make(1, 100)); // space is back: appends go on
            return (firstOffset, errors, endAfterFailure, retried, (await Batches.ReadAll(log, 0)).Count);
        });
        Assert.Equal(2, result.firstOffset);
        Assert.Equal(5, result.errors.Count);
        Assert.Equal(3, result.endAfterFailure); // none of the five became visible
        Assert.Equal(3, result.retried);
        Assert.Equal(3, result.Item5);
    }

    [Fact]
    public async Task AWriteFailingWhileAnFdatasyncRunsFailsTheAppendsWaitingForTheNextOne()
    {
        using var scope = new StorageScope();
        var files = new HeldSyncFiles();
        var result = await scope.Run(async () =>
        {
            await using var log = await OpenWithTwoRecordsAsync(scope, files);
            files.Hold();
            var covered = log.AppendAsync(Batches.Make(1, 100)).AsTask(); // its fdatasync is held
            await Settle();
            var waiting = log.AppendAsync(Batches.Make(1, 100)).AsTask(); // written, waits for the next fdatasync
            await Settle();
            files.FailNextWriteWith = Errno.EIO;
            var failedWrite = await Assert.ThrowsAsync<LogFailedException>(async () => await log.AppendAsync(Batches.Make(1, 100)));
            files.Release();
            long coveredOffset = await covered;
            var stranded = await Assert.ThrowsAsync<LogFailedException>(() => waiting); // not left waiting forever
            return (coveredOffset, stranded.Message, log.DurableOffset);
        });
        Assert.Equal(2, result.coveredOffset);
        Assert.Contains("stopped", result.Message);
        Assert.Equal(3, result.DurableOffset);
    }
}
