using Eddy.Raft;
using Xunit.Abstractions;

namespace Eddy.Storage.Tests;

/// <summary>
/// Where a replicated partition's log starts: retention on a replica compacts its Raft log at the new start, a follower
/// behind its leader's start is sent the snapshot and restarts its log there, and a replica reopened (after a crash at
/// any point of either) starts where its saved snapshot says, holding the same bytes as its leader from there.
/// </summary>
public sealed class PartitionRaftSnapshotTests(ITestOutputHelper output)
{
    // Segments of about 4 KiB, and retention keeping about 8 KiB: a few dozen batches move the start. Each segment
    // reserves 64 KiB ahead, not 32 MiB: dozens of segments would otherwise load the disk under the tests running beside.
    private static readonly LogOptions SmallSegments = LogOptions.Default with
    {
        SegmentBytes = 4096, RetentionBytes = 8192, RetentionTime = null, PreallocateBytes = 64 << 10,
    };

    [Fact]
    public async Task AFollowerBehindItsLeadersLogStartRestartsItsLogThereAndHoldsTheSameBytes()
    {
        using var scope = new StorageScope(shards: 3);
        var set = new PartitionReplicaSet(scope, SmallSegments);
        await set.StartVotersAsync();
        int leader = await set.ElectAsync(1);
        int behind = leader == 3 ? 2 : 3;
        output.WriteLine($"schedule: node {behind} cut off; 40 batches committed; retention on leader {leader}; link healed; " +
            $"nodes {leader} and {behind} restarted; one more batch");
        var (start, end) = await LeaveBehindAsync(set, leader, behind);

        set.Heal();
        await set.UntilAsync(async () => await set.OnAsync(behind, r => r.HighWatermark) == end, $"node {behind} catches up from the leader's start");
        Assert.Equal(start, await set.OnLogAsync(behind, l => l.StartOffset));
        var logs = await set.ReadLogsAsync();
        Assert.Equal(start, PartitionReplicaSet.BatchesOf(logs[behind - 1])[0].Base);
        Assert.Equal(logs[leader - 1], logs[behind - 1]);

        await set.RestartAsync(leader);
        await set.RestartAsync(behind);
        foreach (int node in new[] { leader, behind })
        {
            Assert.Equal(start, await set.OnLogAsync(node, l => l.StartOffset));
            Assert.Equal(new[] { 1, 2, 3 }, (await set.OnAsync(node, r => r.Membership.Voters.ToArray())).Order());
        }
        int next = await set.ElectAsync(leader);
        long last = await set.CommitAsync(next, Batches.Make(1, 10)) + 1;
        await set.UntilAsync(async () => (await set.HighWatermarksAsync()).All(hw => hw == last), "every replica follows after the restarts");
        logs = await set.ReadLogsAsync();
        Assert.Equal(logs[leader - 1], logs[behind - 1]);
        await set.DisposeAsync();
    }

    [Fact]
    public async Task AReplicaThatCrashedAfterSavingASnapshotStartsItsLogThereWhenReopened()
    {
        using var scope = new StorageScope(shards: 3);
        var set = new PartitionReplicaSet(scope, SmallSegments);
        await set.StartVotersAsync();
        int leader = await set.ElectAsync(1);
        int behind = leader == 3 ? 2 : 3;
        var (start, _) = await LeaveBehindAsync(set, leader, behind);
        long term = await set.OnAsync(leader, r => r.Term);
        // The leader crashed after saving a later start (a segment boundary it holds) and before deleting below it; the
        // follower behind, after saving the leader's snapshot and before replacing its log, which ends before it.
        long later = await set.OnLogAsync(leader, l => l.Segments[1].BaseOffset);
        output.WriteLine($"schedule: node {behind} cut off; leader {leader} compacted to {start}, restarted having saved a start " +
            $"of {later}; node {behind} restarted having saved {start}; link healed");
        await set.RestartAsync(leader, savedSnapshot: new SnapshotImage(later, term, new Membership([1, 2, 3]), []));
        Assert.Equal((later, later), await set.OnLogAsync(leader, l => (l.StartOffset, l.Segments[0].BaseOffset)));
        await set.RestartAsync(behind, savedSnapshot: new SnapshotImage(start, term, new Membership([1, 2, 3]), []));
        Assert.Equal((start, start), await set.OnLogAsync(behind, l => (l.StartOffset, l.LogEndOffset)));

        set.Heal();
        int next = await set.ElectAsync(leader);
        long last = await set.CommitAsync(next, Batches.Make(1, 10)) + 1;
        await set.UntilAsync(async () => (await set.HighWatermarksAsync()).All(hw => hw == last), "every replica follows after the restarts");
        var logs = await set.ReadLogsAsync();
        long from = Math.Max(later, await set.OnLogAsync(behind, l => l.StartOffset));
        var expected = BatchesFrom(logs[0], from);
        Assert.NotEmpty(expected);
        for (int node = 2; node <= 3; node++)
        {
            Assert.Equal(expected, BatchesFrom(logs[node - 1], from));
        }
        await set.DisposeAsync();
    }

    /// <summary>Cuts <paramref name="behind"/> off once it holds one batch, commits 40 more, and applies retention on
    /// the leader, whose log then starts past the follower's end. The leader's start and log end.</summary>
    private static async Task<(long Start, long End)> LeaveBehindAsync(PartitionReplicaSet set, int leader, int behind)
    {
        long held = await set.CommitAsync(leader, Batches.Make(2, 500)) + 2;
        await set.UntilAsync(async () => await set.OnAsync(behind, r => r.HighWatermark) == held, $"node {behind} holds the first batch");
        set.Isolate(behind);
        for (int i = 0; i < 40; i++) await set.CommitAsync(leader, Batches.Make(2, 500));
        long start = await set.ApplyRetentionAsync(leader);
        long end = await set.OnAsync(leader, r => r.LogEndOffset);
        long behindEnd = await set.OnAsync(behind, r => r.LogEndOffset);
        Assert.True(start > behindEnd, $"retention moved the leader's start to {start}, not past node {behind}'s end {behindEnd}");
        Assert.True(await set.OnLogAsync(leader, l => l.SizeBytes) <= SmallSegments.RetentionBytes + 2 * SmallSegments.SegmentBytes);
        return (start, end);
    }

    private static List<byte[]> BatchesFrom(byte[] log, long offset)
        => [.. PartitionReplicaSet.BatchesOf(log).Where(b => b.Base >= offset).Select(b => b.Bytes)];
}
