using Eddy.Raft;

namespace Eddy.Raft.Tests;

/// <summary>
/// Entries that cover ranges of indices, as a partition's record batches cover their records' offsets: they commit,
/// truncate and replicate whole, and conflict resolution lands on batch boundaries of both logs.
/// </summary>
public class RecordBatchEntryTests
{
    private static Entry Batch(long term, long first, long last) => new(term, first, last, EntryType.Normal, new byte[] { (byte)term, (byte)first });

    private static Entry[] EntriesOf(MemoryLogStorage storage)
    {
        var all = new List<Entry>();
        storage.Read(storage.SnapshotIndex + 1, storage.LastIndex, int.MaxValue, all);
        return [.. all];
    }

    [Fact]
    public void AProposedBatchTakesAsManyIndicesAsItHasRecordsAndCommitsWhole()
    {
        var c = new TestCluster(3);
        int leader = c.ElectLeader();
        c.Tick(3);
        long before = c[leader].LastIndex;
        Assert.Equal(ProposeResult.Accepted, c[leader].Propose(new byte[] { 7 }, span: 10));
        Assert.Equal(before + 10, c[leader].LastIndex);
        c.Tick(3);
        foreach (int n in c.Nodes)
        {
            var batch = c.Applied(n)[^1];
            Assert.Equal((before + 1, before + 10, 10L), (batch.Index, batch.LastIndex, batch.Span));
            Assert.Equal(before + 10, c[n].Committed);
        }
    }

    [Fact]
    public void ADivergedTailOfBatchesIsReplacedFromTheBatchBoundaryBothLogsShare()
    {
        // Both hold term 1's batches through 5. The leader then has a term-3 batch; the follower two term-2 batches of
        // other sizes, reaching well past the leader's end, that no leader ever committed.
        var members = new Membership([1, 2]);
        var leader = TestCluster.Solo(new RaftOptions { NodeId = 1 }, members, new HardState(3, 0, 1), null,
            Batch(1, 1, 1), Batch(1, 2, 5), Batch(3, 6, 20));
        var follower = TestCluster.Solo(new RaftOptions { NodeId = 2 }, members, new HardState(3, 0, 1), null,
            Batch(1, 1, 1), Batch(1, 2, 5), Batch(2, 6, 9), Batch(2, 10, 40));
        leader.Group.Campaign();
        int rejections = TestCluster.Exchange(leader, follower, rounds: 40);
        Assert.Equal(Role.Leader, leader.Group.Role);
        Assert.Equal(EntriesOf(leader.Storage).Select(e => e.ToString()), EntriesOf(follower.Storage).Select(e => e.ToString()));
        // The follower's acknowledgement committed the leader's whole log (its no-op at 21 included).
        Assert.Equal(21, leader.Group.Committed);
        // One rejection finds the term both share (1) and its end in both logs (5): no probing inside batches.
        Assert.InRange(rejections, 1, 2);
    }

    [Fact]
    public void AFollowerWithAShorterRunOfTheLeadersTermCatchesUpFromTheEndOfItsRun()
    {
        var members = new Membership([1, 2]);
        var leader = TestCluster.Solo(new RaftOptions { NodeId = 1 }, members, new HardState(2, 0, 4), null,
            Batch(1, 1, 4), Batch(1, 5, 8), Batch(2, 9, 12));
        var follower = TestCluster.Solo(new RaftOptions { NodeId = 2 }, members, new HardState(2, 0, 4), null, Batch(1, 1, 4));
        leader.Group.Campaign();
        int rejections = TestCluster.Exchange(leader, follower, rounds: 40);
        Assert.Equal(EntriesOf(leader.Storage).Select(e => e.ToString()), EntriesOf(follower.Storage).Select(e => e.ToString()));
        Assert.InRange(rejections, 1, 1);
    }

    [Fact]
    public void StorageRefusesToCutInsideABatch()
    {
        var storage = new MemoryLogStorage(0, [Batch(1, 1, 4), Batch(1, 5, 8)]);
        Assert.Throws<RaftInvariantException>(() => storage.Write([Batch(2, 3, 3)]));
        Assert.Throws<RaftInvariantException>(() => storage.Compact(6));
        Assert.Throws<RaftInvariantException>(() => storage.Read(6, 8, 10, new List<Entry>()));
        Assert.Equal(1, storage.Term(7));
        storage.Write([Batch(2, 5, 5)]);
        Assert.Equal(5, storage.LastIndex);
    }
}
