using Eddy.Kafka.Server;
using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Protocol.Tests;

/// <summary>What a fetch hands a client of a read: leading Raft control and empty batches skipped, the read cut before
/// the next Raft control batch, empty batches between others and transaction markers kept.</summary>
public sealed class ClientBatchesTests
{
    private static byte[] Data(long offset, int records)
    {
        var builder = new RecordBatchBuilder { BaseOffset = offset };
        builder.Reset(1_000);
        for (int i = 0; i < records; i++) builder.Add(1_000, "k"u8, "v"u8);
        return builder.Finish().ToArray();
    }

    private static byte[] NoOp(long offset) => ControlRecord.LeaderChange(offset, 3, 1, 1_000);

    private static byte[] Marker(long offset)
    {
        var marker = ControlRecord.Marker(ControlRecordType.Commit, 0, 9, 0, 1_000);
        RecordBatch.Assign(marker, offset, 3);
        return marker;
    }

    private static (List<long> Bases, long Next) Visible(params byte[][] batches)
    {
        var bytes = batches.SelectMany(b => b).ToArray();
        long end = 0;
        foreach (var batch in RecordBatch.Enumerate(bytes)) end = batch.LastOffset + 1;
        var read = new LogRead(bytes, new RecordBatch(bytes).BaseOffset, end, owner: null, fromCache: false);
        var visible = ClientBatches.Visible(read, out long next);
        var bases = new List<long>();
        foreach (var batch in RecordBatch.Enumerate(visible.Records.Span)) bases.Add(batch.BaseOffset);
        if (!visible.IsEmpty)
        {
            Assert.Equal(bases[0], visible.FirstOffset);
            Assert.Equal(next, visible.NextOffset);
        }
        return (bases, next);
    }

    [Fact]
    public void LeadingNoOpsAndEmptyBatchesAreSkippedAndTheReadEndsBeforeTheNextNoOp()
    {
        var (bases, next) = Visible(NoOp(0), RecordBatchBuilder.Empty(1, 4, 3), Data(5, 2), RecordBatchBuilder.Empty(7, 9, 3), Data(10, 1), NoOp(11), Data(12, 1));
        Assert.Equal([5L, 7, 10], bases);
        Assert.Equal(11, next);
    }

    [Fact]
    public void AReadOfHiddenBatchesOnlyIsEmptyAndSaysWhereTheyEnd()
    {
        var (bases, next) = Visible(RecordBatchBuilder.Empty(0, 4, 3), NoOp(5), RecordBatchBuilder.Empty(6, 6, 3));
        Assert.Empty(bases);
        Assert.Equal(7, next);
    }

    [Fact]
    public void TransactionMarkersAreNotHidden()
    {
        var (bases, next) = Visible(Marker(0), Data(1, 2), Marker(3), Data(4, 1));
        Assert.Equal([0L, 1, 3, 4], bases);
        Assert.Equal(5, next);
    }
}
