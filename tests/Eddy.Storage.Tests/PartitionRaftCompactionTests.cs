using System.Text;
using Eddy.Raft;
using Eddy.Records;
using Xunit.Abstractions;

namespace Eddy.Storage.Tests;

/// <summary>
/// Compaction on a replicated partition: a replica compacts only its settled log (committed and durable), and a follower
/// that catches up through a leader's compacted segments gets an empty batch for every gap, so its offsets follow on
/// from each other as its Raft log needs; it holds the leader's surviving records at their offsets, recovers its log end
/// when reopened, and leads with it.
/// </summary>
public sealed class PartitionRaftCompactionTests(ITestOutputHelper output)
{
    private static readonly LogOptions CompactedSmallSegments = LogOptions.Default with
    {
        SegmentBytes = 4096, CleanupPolicy = CleanupPolicy.Compact, RetentionTime = null, PreallocateBytes = 64 << 10,
    };

    [Fact]
    public async Task AFollowerCatchingUpThroughCompactedSegmentsHoldsTheSurvivingRecordsAtTheirOffsetsAndLeadsWithThem()
    {
        using var scope = new StorageScope(shards: 3);
        var set = new PartitionReplicaSet(scope, CompactedSmallSegments);
        await set.StartVotersAsync();
        int leader = await set.ElectAsync(1);
        int behind = leader == 3 ? 2 : 3;
        int other = 6 - leader - behind;
        output.WriteLine($"schedule: node {behind} cut off after 2 batches; 60 batches over 4 keys committed; leader {leader} " +
            $"compacted; link healed; node {behind} restarted; node {leader} cut off; node {behind} elected; one more batch");

        for (int i = 0; i < 2; i++) await set.CommitAsync(leader, Keyed(i));
        long held = await set.OnAsync(leader, r => r.LogEndOffset);
        await set.UntilAsync(async () => await set.OnAsync(behind, r => r.HighWatermark) == held, $"node {behind} holds the first batches");
        set.Isolate(behind);
        for (int i = 2; i < 62; i++) await set.CommitAsync(leader, Keyed(i));
        long end = await set.OnAsync(leader, r => r.LogEndOffset);
        long removed = await set.CompactAsync(leader);
        Assert.True(removed > 0, "compaction removed nothing from the leader's closed segments");
        var compacted = RecordsOf((await set.ReadLogsAsync())[leader - 1]);

        set.Heal();
        await set.UntilAsync(async () => await set.OnAsync(behind, r => r.HighWatermark) == end, $"node {behind} catches up through the compacted segments");
        var caughtUp = (await set.ReadLogsAsync())[behind - 1];
        AssertEveryOffsetHeld(caughtUp, end);
        Assert.Contains(PartitionReplicaSet.BatchesOf(caughtUp), b => new RecordBatch(b.Bytes).RecordCount == 0);
        // Below what it held before the cut, its own records; from there, the leader's survivors at their offsets.
        Assert.Equal(compacted.Where(r => r.Offset >= held), RecordsOf(caughtUp).Where(r => r.Offset >= held));

        await set.RestartAsync(behind);
        Assert.Equal(end, await set.OnLogAsync(behind, l => l.LogEndOffset));
        set.Isolate(leader);
        int next = await set.ElectAsync(behind);
        Assert.NotEqual(leader, next);
        long last = await set.CommitAsync(next, Keyed(62)) + 3; // three records
        await set.UntilAsync(async () => await set.OnAsync(other, r => r.HighWatermark) == last, $"node {other} follows node {next}");
        var logs = await set.ReadLogsAsync();
        // The follower never compacted: it holds every record the new leader does, and the same newest one of each key.
        Assert.Subset(RecordsOf(logs[other - 1]).ToHashSet(), RecordsOf(logs[next - 1]).ToHashSet());
        Assert.Equal(NewestOfEachKey(logs[other - 1]), NewestOfEachKey(logs[next - 1]));
        await set.DisposeAsync();
    }

    [Fact]
    public async Task ALeaderCompactsNothingPastItsSettledEndNorByRecordsAMajorityDoesNotHold()
    {
        using var scope = new StorageScope(shards: 3);
        var set = new PartitionReplicaSet(scope, CompactedSmallSegments);
        await set.StartVotersAsync();
        int leader = await set.ElectAsync(1);
        for (int i = 0; i < 30; i++) await set.CommitAsync(leader, Keyed(i));
        long settled = await set.OnAsync(leader, r => r.SettledEnd);
        // Cut off, the leader writes newer records of every key that no majority will hold: a new leader cuts them.
        set.Isolate(leader);
        for (int i = 30; i < 50; i++) await set.ProposeAsync(leader, Keyed(i));
        await set.RoundsAsync(3);
        Assert.Equal(settled, await set.OnAsync(leader, r => r.SettledEnd));
        var before = RecordsOf((await set.ReadLogsAsync())[leader - 1]);
        Assert.True(before[^1].Offset >= settled + 40, $"the leader's log ends at {before[^1].Offset}, not 40 offsets past {settled}");
        output.WriteLine($"schedule: 30 batches committed; leader {leader} cut off with 20 more written, settled end {settled}; compacted");

        long removed = await set.CompactAsync(leader);
        var after = RecordsOf((await set.ReadLogsAsync())[leader - 1]);
        Assert.True(removed > 0, "compaction removed nothing below the settled end");
        Assert.Equal(before.Where(r => r.Offset >= settled), after.Where(r => r.Offset >= settled));
        var newestSettled = before.Where(r => r.Offset < settled).GroupBy(r => r.Key).Select(g => g.MaxBy(r => r.Offset)).ToList();
        Assert.All(newestSettled, r => Assert.Contains(r, after));
        await set.DisposeAsync();
    }

    /// <summary>Batch <paramref name="i"/>: three records over four keys, each about 300 bytes, so a segment holds a few
    /// batches and most older batches lose every record to newer ones.</summary>
    private static byte[] Keyed(int i)
    {
        var builder = new RecordBatchBuilder();
        builder.Reset(1_000 + i);
        for (int r = 0; r < 3; r++)
        {
            builder.Add(1_000 + i, Encoding.UTF8.GetBytes($"key-{(i * 3 + r) % 4}"), Encoding.UTF8.GetBytes($"v{i}-{r}-{new string('x', 300)}"));
        }
        return builder.Finish().ToArray();
    }

    private static List<(long Offset, string Key, string Value)> RecordsOf(byte[] log)
    {
        var records = new List<(long, string, string)>();
        foreach (var batch in new BatchEnumerator(log))
        {
            if (batch.IsControl) continue;
            var reader = batch.ReadRecords();
            while (reader.TryNext(out var r)) records.Add((r.Offset, Encoding.UTF8.GetString(r.Key), Encoding.UTF8.GetString(r.Value)));
        }
        return records;
    }

    private static List<(long Offset, string Key, string Value)> NewestOfEachKey(byte[] log)
        => [.. RecordsOf(log).GroupBy(r => r.Key).Select(g => g.MaxBy(r => r.Offset)).OrderBy(r => r.Offset)];

    private static void AssertEveryOffsetHeld(byte[] log, long end)
    {
        long next = 0;
        foreach (var batch in new BatchEnumerator(log))
        {
            Assert.Equal(next, batch.BaseOffset);
            next = batch.LastOffset + 1;
        }
        Assert.Equal(end, next);
    }
}
