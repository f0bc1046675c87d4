using Eddy.Raft;
using Eddy.Raft.Driver;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

/// <summary>The Raft groups' hard state: a round of many groups is one write and one segment batch, it survives a
/// reopen, a crash in the middle of a round keeps none of it, and a term, vote or commit that goes back is refused.</summary>
public sealed class RaftStateStoreTests
{
    private static List<(long, HardState)> Round(int groups, long term, int vote, long commit)
        => Enumerable.Range(1, groups).Select(g => ((long)g, new HardState(term, vote, commit + g))).ToList();

    [Fact]
    public async Task ARoundOfManyGroupsIsOneBatchAndSurvivesAReopen()
    {
        using var scope = new StorageScope();
        string dir = Path.Combine(scope.Root, "raft");
        long logBefore = 0, logAfter = 0;
        await scope.Run(async () =>
        {
            await using var store = await RaftStateStore.OpenAsync(dir);
            await store.SaveAsync(Round(1000, term: 3, vote: 2, commit: 10));
            logBefore = CountBatches(dir);
            await store.SaveAsync(Round(1000, term: 4, vote: 0, commit: 20));
            logAfter = CountBatches(dir);
        });
        Assert.Equal(1, logAfter - logBefore); // one batch (one fdatasync) for a thousand groups
        var (count, first, last, unknown) = await scope.Run(async () =>
        {
            await using var store = await RaftStateStore.OpenAsync(dir);
            return (store.Count, store.Load(1), store.Load(1000), store.Load(5000));
        });
        Assert.Equal((1000, new HardState(4, 0, 21), new HardState(4, 0, 1020), default(HardState)), (count, first, last, unknown));
    }

    [Fact]
    public async Task ARoundCutShortByACrashKeepsNoneOfIt()
    {
        using var scope = new StorageScope();
        string dir = Path.Combine(scope.Root, "raft");
        string copy = Path.Combine(scope.Root, "copy");
        await scope.Run(async () =>
        {
            await using var store = await RaftStateStore.OpenAsync(dir);
            await store.SaveAsync(Round(50, term: 1, vote: 1, commit: 0));
            await store.SaveAsync(Round(50, term: 2, vote: 3, commit: 5));
            // The crash: the second round's batch written up to half way.
            Directory.CreateDirectory(copy);
            foreach (var file in Directory.GetFiles(dir))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }
            string segment = Path.Combine(copy, Path.GetFileName(LastSegment(dir)));
            byte[] bytes = File.ReadAllBytes(segment);
            var (start, end) = BatchesOf(bytes)[^1]; // the second round's batch
            File.WriteAllBytes(segment, bytes[..(int)(start + (end - start) / 2)]);
        });
        var states = await scope.Run(async () =>
        {
            await using var store = await RaftStateStore.OpenAsync(copy);
            return Enumerable.Range(1, 50).Select(g => store.Load(g)).ToList();
        });
        Assert.All(states, s => Assert.Equal(1, s.Term)); // every group is back at the first round, none half way
    }

    [Fact]
    public async Task AHardStateThatGoesBackIsRefused()
    {
        using var scope = new StorageScope();
        string dir = Path.Combine(scope.Root, "raft");
        await scope.Run(async () =>
        {
            await using var store = await RaftStateStore.OpenAsync(dir);
            await store.SaveAsync([(7, new HardState(5, 2, 10))]);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.SaveAsync([(7, new HardState(4, 2, 10))])); // term back
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.SaveAsync([(7, new HardState(5, 3, 10))])); // a second vote in a term
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.SaveAsync([(7, new HardState(5, 2, 9))]));  // commit back
            await store.SaveAsync([(7, new HardState(6, 3, 12))]);
            Assert.Equal(new HardState(6, 3, 12), store.Load(7));
        });
    }

    private static string LastSegment(string dir) => Directory.GetFiles(dir, "*.log").OrderBy(f => f, StringComparer.Ordinal).Last();

    /// <summary>Where each batch of a segment file starts and ends, up to the zeros written ahead of the data.</summary>
    private static List<(long Start, long End)> BatchesOf(byte[] segment)
    {
        var batches = new List<(long, long)>();
        for (long at = 0; at + 12 <= segment.Length;)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(segment.AsSpan((int)at + 8));
            if (length <= 0)
            {
                break;
            }
            batches.Add((at, at + 12 + length));
            at += 12 + length;
        }
        return batches;
    }

    /// <summary>The batches in the store's segment files, as a crash right now would find them.</summary>
    private static long CountBatches(string dir) => Directory.GetFiles(dir, "*.log").Sum(f => (long)BatchesOf(File.ReadAllBytes(f)).Count);
}
