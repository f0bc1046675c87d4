using Eddy.Raft;
using Eddy.Raft.Simulator;

namespace Eddy.Raft.Tests;

public class SimDiskTests
{
    private static Entry[] Entries(long from, int count, long term = 1) =>
        Enumerable.Range(0, count).Select(i => new Entry(term, from + i, EntryType.Normal, default)).ToArray();

    private static ulong[] Chains(int count) => Enumerable.Range(1, count).Select(i => (ulong)i).ToArray();

    [Fact]
    public void CrashKeepsSyncedWritesAndAtMostAPrefixOfUnsyncedOnes()
    {
        var seen = new HashSet<long>();
        for (ulong seed = 1; seed <= 200; seed++)
        {
            var disk = new SimDisk();
            disk.WriteEntries(Entries(1, 5), Chains(5));
            disk.WriteHardState(new HardState(1, 1, 5));
            disk.Sync();
            disk.WriteEntries(Entries(6, 10), Chains(10));
            disk.WriteHardState(new HardState(1, 1, 15));
            disk.Crash(new SimRandom(seed), tornChance: 1.0);
            var durable = disk.Durable;
            Assert.InRange(durable.LastIndex, 5, 15);
            // The hard state after a torn write never survives it: commit stays within the log.
            Assert.True(durable.HardState.Commit <= durable.LastIndex);
            Assert.Equal(durable.LastIndex, disk.Written.LastIndex);
            seen.Add(durable.LastIndex);
        }
        // Torn writes leave partial batches: more outcomes than "all" or "none".
        Assert.Contains(5, seen);
        Assert.Contains(15, seen);
        Assert.True(seen.Count > 5, $"only {seen.Count} outcomes");
    }

    [Fact]
    public void WritesOverwriteTheSuffixFromTheirFirstIndex()
    {
        var image = new LogImage();
        image.Write(Entries(1, 10), Chains(10));
        image.Write(Entries(4, 2, term: 2), [40, 50]);
        Assert.Equal(5, image.LastIndex);
        Assert.Equal(2, image.TermAt(5));
        Assert.Equal(50UL, image.ChainAt(5));
    }
}
