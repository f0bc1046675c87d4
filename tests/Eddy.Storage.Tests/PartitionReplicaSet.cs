using System.Collections.Concurrent;
using Eddy.Raft;
using Eddy.Raft.Driver;
using Eddy.Records;

namespace Eddy.Storage.Tests;

/// <summary>Replicas of group 7, node n on shard n - 1, all starting with voters 1 to 3, and the wire between them.</summary>
internal sealed class PartitionReplicaSet(StorageScope scope, LogOptions? logOptions = null)
{
    private const long Group = 7;
    private const int MaxNodes = 4;
    private readonly PartitionLog?[] _logs = new PartitionLog?[MaxNodes + 1];
    private readonly RaftStateStore?[] _states = new RaftStateStore?[MaxNodes + 1];
    private readonly PartitionRaft?[] _replicas = new PartitionRaft?[MaxNodes + 1];
    private readonly ConcurrentQueue<(int From, Message Message)> _wire = new();
    private int _isolated;

    private string Dir(int node, string what) => Path.Combine(scope.Root, $"n{node}", what);

    public Task StartAsync(int node) => scope.Run(async () =>
    {
        _logs[node] = await PartitionLog.OpenAsync(Dir(node, "log"), logOptions);
        _states[node] = await RaftStateStore.OpenAsync(Dir(node, "raft"));
        var options = new RaftOptions { NodeId = node, RandomSeed = (ulong)node * 977 };
        _replicas[node] = await PartitionRaft.OpenAsync(Group, options, new Membership([1, 2, 3]), _logs[node]!, _states[node]!,
            (_, message) => _wire.Enqueue((node, Copied(message))));
    }, node - 1);

    /// <summary>The message as the receiver gets it: its entries' bytes copied, as a link encodes them at once (the
    /// sender gives its pooled copies back once they are durable, which may come before this wire delivers).</summary>
    private static Message Copied(Message message)
    {
        if (message.Entries is { Length: > 0 } entries)
        {
            message.Entries = [.. entries.Select(e => new Entry(e.Term, e.Index, e.LastIndex, e.Type, e.Data.ToArray()))];
        }
        return message;
    }

    /// <summary>Closes a replica's files as a crash would leave them and opens it again. With
    /// <paramref name="forgetMembership"/>, as if it crashed after writing membership changes and before listing them;
    /// with <paramref name="savedSnapshot"/>, as if it crashed after saving that snapshot and before its log followed; with
    /// <paramref name="forgetSnapshot"/>, as if it crashed before saving any snapshot (a log start marker written and not
    /// yet applied: its log start must lie in its first segment, which nothing deleted).</summary>
    public async Task RestartAsync(int node, bool forgetMembership = false, SnapshotImage? savedSnapshot = null, bool forgetSnapshot = false)
    {
        await scope.Run(async () =>
        {
            _replicas[node] = null;
            if (forgetSnapshot)
            {
                var hardState = _states[node]!.Load(Group);
                await _states[node]!.RemoveAsync(Group);
                await _states[node]!.SaveAsync([(Group, hardState)], [(Group, 0, [])]);
            }
            if (forgetMembership)
            {
                await _states[node]!.SaveAsync([], [(Group, 0, [])]);
            }
            if (savedSnapshot is not null)
            {
                await _states[node]!.SaveSnapshotAsync(Group, savedSnapshot, savedSnapshot.Index, []);
            }
            await _logs[node]!.DisposeAsync();
            await _states[node]!.DisposeAsync();
        }, node - 1);
        await StartAsync(node);
    }

    /// <summary>Starts the three voters, nodes 1 to 3.</summary>
    public async Task StartVotersAsync()
    {
        for (int node = 1; node <= 3; node++) await StartAsync(node);
    }

    public IEnumerable<int> Started => Enumerable.Range(1, MaxNodes).Where(n => _replicas[n] is not null);

    public void Isolate(int node) => _isolated = node;
    public void Heal() => _isolated = 0;

    public Task<T> OnAsync<T>(int node, Func<PartitionRaft, T> read) => scope.Run(() => new ValueTask<T>(read(_replicas[node]!)), node - 1);

    public Task<T> OnLogAsync<T>(int node, Func<PartitionLog, T> read) => scope.Run(() => new ValueTask<T>(read(_logs[node]!)), node - 1);

    /// <summary>Applies retention on one replica; its log start offset after.</summary>
    public Task<long> ApplyRetentionAsync(int node) => scope.Run(() => _replicas[node]!.ApplyRetentionAsync(), node - 1);

    /// <summary>Compacts one replica's settled log (cleanup.policy=compact); how many records went.</summary>
    public Task<long> CompactAsync(int node) => scope.Run(() => Compactor.CompactAsync(_logs[node]!, _replicas[node]!.SettledEnd), node - 1);

    /// <summary>DeleteRecords on the leader: the task completes with its log start once the marker is committed and
    /// applied there (rounds must run meanwhile).</summary>
    public Task<Task<long>> MoveLogStartAsync(int node, long offset) => OnAsync(node, r => r.MoveLogStartAsync(offset));

    public Task<Task<long>> ProposeAsync(int node, byte[] batch) => OnAsync(node, r => r.ProposeAsync(batch));

    /// <summary>Proposes and runs rounds until the batch is committed; its base offset.</summary>
    public async Task<long> CommitAsync(int node, byte[] batch)
    {
        var proposal = await ProposeAsync(node, batch);
        await UntilAsync(() => Task.FromResult(proposal.IsCompleted), $"a batch proposed to node {node} settles");
        return await proposal;
    }

    /// <summary>One round: every replica ticks, then everything sent is delivered (or dropped across a cut link).</summary>
    public async Task RoundAsync()
    {
        foreach (int node in Started.ToArray())
        {
            await OnAsync(node, r => { r.Tick(); return 0; });
        }
        await Task.Delay(1); // the replicas' fdatasyncs, then their sends
        while (_wire.TryDequeue(out var sent))
        {
            int to = sent.Message.To;
            if (sent.From == _isolated || to == _isolated || _replicas[to] is null) continue;
            var message = sent.Message;
            await OnAsync(to, r => { r.Step(message); return 0; });
        }
    }

    public async Task RoundsAsync(int count)
    {
        for (int i = 0; i < count; i++) await RoundAsync();
    }

    public async Task UntilAsync(Func<Task<bool>> done, string what, int maxRounds = 3000)
    {
        for (int round = 0; round < maxRounds; round++)
        {
            if (await done()) return;
            await RoundAsync();
        }
        Assert.Fail($"not within {maxRounds} rounds: {what}");
    }

    /// <summary>Has <paramref name="candidate"/> campaign and waits until a replica outside the cut leads and has
    /// committed its leader change (everything in its log); returns it. Another may win: a follower that stopped
    /// hearing from the old leader campaigns on its own timer.</summary>
    public async Task<int> ElectAsync(int candidate)
    {
        await OnAsync(candidate, r => { r.Campaign(); return 0; });
        int leader = 0;
        await UntilAsync(async () =>
        {
            foreach (int node in Started.ToArray())
            {
                if (node != _isolated && await OnAsync(node, r => r.Role == Role.Leader && r.HighWatermark == r.LogEndOffset))
                {
                    leader = node;
                    return true;
                }
            }
            return false;
        }, "a leader outside the cut commits its leader change");
        return leader;
    }

    public async Task<long[]> HighWatermarksAsync()
    {
        var marks = new List<long>();
        foreach (int node in Started.ToArray()) marks.Add(await OnAsync(node, r => r.HighWatermark));
        return [.. marks];
    }

    /// <summary>Each replica's whole log from its start offset, as bytes read back through the log.</summary>
    public async Task<byte[][]> ReadLogsAsync()
    {
        var logs = new byte[MaxNodes][];
        foreach (int node in Started.ToArray())
        {
            logs[node - 1] = await scope.Run(async () =>
            {
                var log = _logs[node]!;
                var bytes = new List<byte>();
                for (long offset = log.StartOffset; offset < log.LogEndOffset;)
                {
                    using var read = await log.ReadAsync(offset, 1 << 20);
                    bytes.AddRange(read.Records.ToArray());
                    offset = read.NextOffset;
                }
                return bytes.ToArray();
            }, node - 1);
        }
        return logs;
    }

    /// <summary>The term the log gives each batch's base offset (from its segment).</summary>
    public Task<List<long>> TermsAsync(int node, byte[] bytes) => scope.Run(() =>
    {
        var log = _logs[node]!;
        return new ValueTask<List<long>>(BatchesOf(bytes).Select(b => (long)log.TermAt(b.Base)).ToList());
    }, node - 1);

    /// <summary>The batches of a log read back whole: base and last offset, epoch, bytes.</summary>
    public static List<(long Base, long Last, int Epoch, byte[] Bytes)> BatchesOf(byte[] log)
    {
        var batches = new List<(long, long, int, byte[])>();
        foreach (var batch in new BatchEnumerator(log))
        {
            batches.Add((batch.BaseOffset, batch.LastOffset, batch.PartitionLeaderEpoch, batch.Bytes.ToArray()));
        }
        return batches;
    }

    public static int MembershipChangesIn(byte[] log) => BatchesOf(log).Count(b => ControlRecord.ReadMembershipChange(b.Bytes) is not null);

    public static List<long> EpochsOf(byte[] log) => [.. BatchesOf(log).Select(b => (long)b.Epoch)];

    public async ValueTask DisposeAsync()
    {
        for (int node = 1; node <= MaxNodes; node++)
        {
            if (_logs[node] is null) continue;
            await scope.Run(async () =>
            {
                _replicas[node] = null;
                if (_logs[node] is { } log) await log.DisposeAsync();
                if (_states[node] is { } states) await states.DisposeAsync();
            }, node - 1);
        }
    }
}
