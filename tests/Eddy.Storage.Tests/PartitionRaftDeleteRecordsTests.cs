using Eddy.Raft;
using Xunit.Abstractions;

namespace Eddy.Storage.Tests;

/// <summary>
/// DeleteRecords on a replicated partition: the leader's log start marker, once committed, moves every replica's start
/// to the same offset inside a segment (segments wholly below it deleted); a follower whose log ends before that segment
/// restarts at its base from the leader's snapshot and applies the marker when it reaches it, and a replica that wrote
/// the marker but crashed before applying it finds it again when reopened.
/// </summary>
public sealed class PartitionRaftDeleteRecordsTests(ITestOutputHelper output)
{
    private static readonly LogOptions SmallSegments = LogOptions.Default with
    {
        SegmentBytes = 4096, RetentionTime = null, PreallocateBytes = 64 << 10,
    };

    [Fact]
    public async Task EveryReplicaStartsAtTheNewStartInsideASegmentAndOneBehindItRestartsThere()
    {
        using var scope = new StorageScope(shards: 3);
        var set = new PartitionReplicaSet(scope, SmallSegments);
        await set.StartVotersAsync();
        int leader = await set.ElectAsync(1);
        int behind = leader == 3 ? 2 : 3;
        int other = 6 - leader - behind;
        long held = await set.CommitAsync(leader, Batches.Make(2, 500)) + 2;
        await set.UntilAsync(async () => await set.OnAsync(behind, r => r.HighWatermark) == held, $"node {behind} holds the first batch");
        set.Isolate(behind);
        var bases = new List<long>();
        for (int i = 0; i < 30; i++) bases.Add(await set.CommitAsync(leader, Batches.Make(2, 500)));
        long start = bases[20] + 1; // inside a batch, inside a segment
        output.WriteLine($"schedule: node {behind} cut off; 30 batches committed; DeleteRecords to {start} on leader {leader}; link healed; all restarted");

        var moved = await set.MoveLogStartAsync(leader, start);
        await set.UntilAsync(() => Task.FromResult(moved.IsCompleted), "the log start marker commits");
        Assert.Equal(start, await moved);
        await set.UntilAsync(async () => await set.OnAsync(other, r => r.LogStartOffset) == start, $"node {other} applies the marker");
        long segmentBase = await set.OnLogAsync(leader, l => l.StartOffset);
        foreach (int node in new[] { leader, other })
        {
            // The start moves first; the segments wholly below it are deleted after, a moment later.
            await set.UntilAsync(async () => await set.OnLogAsync(node, l => l.Segments[0].BaseOffset) > 0, $"node {node} deletes the segments below {start}");
            var (first, segmentEnd) = await set.OnLogAsync(node, l => (l.Segments[0].BaseOffset, l.Segments[0].NextOffset));
            Assert.True(first < start && start < segmentEnd && first > 0, $"node {node}: the first segment [{first}, {segmentEnd}) does not hold {start}, or none went");
        }

        set.Heal();
        long end = await set.OnAsync(leader, r => r.LogEndOffset);
        await set.UntilAsync(async () => await set.OnAsync(behind, r => r.HighWatermark) == end, $"node {behind} catches up from the new start");
        // The marker is applied once settled, in the pump turn after the high watermark passed it: a moment later.
        await set.UntilAsync(async () => await set.OnAsync(behind, r => r.LogStartOffset) == start, $"node {behind} applies the marker it caught up with");
        Assert.Equal(segmentBase, await set.OnLogAsync(behind, l => l.Segments[0].BaseOffset));

        for (int node = 1; node <= 3; node++) await set.RestartAsync(node);
        for (int node = 1; node <= 3; node++) Assert.Equal(start, await set.OnAsync(node, r => r.LogStartOffset));
        int next = await set.ElectAsync(leader);
        long last = await set.CommitAsync(next, Batches.Make(1, 10)) + 1;
        await set.UntilAsync(async () => (await set.HighWatermarksAsync()).All(hw => hw == last), "every replica follows after the restarts");
        await set.DisposeAsync();
    }

    [Fact]
    public async Task AReplicaThatCrashedBeforeApplyingTheMarkerAppliesItWhenReopened()
    {
        using var scope = new StorageScope(shards: 3);
        var set = new PartitionReplicaSet(scope, SmallSegments);
        await set.StartVotersAsync();
        int leader = await set.ElectAsync(1);
        int follower = leader % 3 + 1;
        await set.CommitAsync(leader, Batches.Make(2, 100));
        long start = await set.CommitAsync(leader, Batches.Make(2, 100)); // in the first segment: nothing is deleted
        var moved = await set.MoveLogStartAsync(leader, start);
        await set.UntilAsync(() => Task.FromResult(moved.IsCompleted), "the log start marker commits");
        await set.UntilAsync(async () => await set.OnAsync(follower, r => r.LogStartOffset) == start, $"node {follower} applies the marker");
        output.WriteLine($"schedule: DeleteRecords to {start}; node {follower} restarted without its snapshot");

        await set.RestartAsync(follower, forgetSnapshot: true);
        Assert.Equal(0, await set.OnAsync(follower, r => r.LogStartOffset));
        await set.UntilAsync(async () => await set.OnAsync(follower, r => r.LogStartOffset) == start, $"node {follower} applies the marker it finds again");
        await set.RestartAsync(follower);
        Assert.Equal(start, await set.OnAsync(follower, r => r.LogStartOffset));
        await set.DisposeAsync();
    }
}
