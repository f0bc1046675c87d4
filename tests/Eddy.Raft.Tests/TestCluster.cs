using Eddy.Raft;

namespace Eddy.Raft.Tests;

/// <summary>
/// A small synchronous cluster for unit tests: every Ready is persisted at once, messages are
/// delivered in order unless a test cuts a link. Many groups per node share one envelope batcher.
/// </summary>
internal sealed class TestCluster
{
    private readonly Dictionary<(int, long), RaftGroup> groups = new();
    private readonly Dictionary<(int, long), MemoryLogStorage> storages = new();
    private readonly HashSet<(int From, int To)> cut = new();
    private readonly Dictionary<int, EnvelopeBatcher> batchers = new();
    private readonly Dictionary<(int, long), List<Entry>> applied = new();

    public TestCluster(int nodes, int groupCount = 1, Func<int, RaftOptions>? options = null, int[]? voters = null)
    {
        Nodes = Enumerable.Range(1, nodes).ToArray();
        GroupIds = Enumerable.Range(0, groupCount).Select(g => (long)g).ToArray();
        var members = new Membership(voters ?? Nodes);
        foreach (int n in Nodes)
        {
            batchers[n] = new EnvelopeBatcher(n);
            foreach (long g in GroupIds)
            {
                var o = options?.Invoke(n) ?? new RaftOptions { NodeId = n, RandomSeed = (ulong)(n * 31 + g) };
                storages[(n, g)] = new MemoryLogStorage();
                groups[(n, g)] = new RaftGroup(o, members, storages[(n, g)]);
                applied[(n, g)] = new();
            }
        }
    }

    public int[] Nodes { get; }
    public long[] GroupIds { get; }
    public List<NodeEnvelope> SentEnvelopes { get; } = new();
    public List<ReadState> ReadStates { get; } = new();
    public int RaftMessagesSent { get; private set; }

    public RaftGroup this[int node, long group = 0] => groups[(node, group)];
    public IReadOnlyList<Entry> Applied(int node, long group = 0) => applied[(node, group)];

    public void Cut(int a, int b) { cut.Add((a, b)); cut.Add((b, a)); }
    public void CutOneWay(int from, int to) => cut.Add((from, to));
    public void Isolate(int node) { foreach (int n in Nodes) if (n != node) Cut(node, n); }
    public void Heal() => cut.Clear();

    public void AddNode(int node, Membership bootstrap, long group = 0)
    {
        storages[(node, group)] = new MemoryLogStorage();
        groups[(node, group)] = new RaftGroup(new RaftOptions { NodeId = node, RandomSeed = (ulong)node }, bootstrap, storages[(node, group)]);
        applied[(node, group)] = new();
        batchers.TryAdd(node, new EnvelopeBatcher(node));
    }

    public void Tick(int times = 1)
    {
        for (int i = 0; i < times; i++)
        {
            foreach (var (_, g) in groups) g.Tick();
            Settle();
        }
    }

    /// <summary>Processes readies and delivers messages until nothing moves.</summary>
    public void Settle(int maxRounds = 1000)
    {
        for (int round = 0; round < maxRounds; round++)
        {
            var envelopes = new List<NodeEnvelope>();
            foreach (var ((node, groupId), g) in groups)
            {
                if (!g.HasReady) continue;
                var ready = g.GetReady();
                Persist(storages[(node, groupId)], ready);
                foreach (var m in ready.Messages) batchers[node].Add(groupId, m);
                applied[(node, groupId)].AddRange(ready.CommittedEntries);
                ReadStates.AddRange(ready.ReadStates);
                g.Advance();
            }
            foreach (var (_, b) in batchers) b.Flush(envelopes);
            if (envelopes.Count == 0) return;
            foreach (var env in envelopes)
            {
                SentEnvelopes.Add(env);
                RaftMessagesSent += env.RaftMessageCount;
                if (cut.Contains((env.From, env.To))) continue;
                var unpacked = new List<GroupMessage>();
                env.Unpack(unpacked);
                foreach (var gm in unpacked)
                {
                    if (groups.TryGetValue((env.To, gm.Group), out var target)) target.Step(gm.Message);
                }
            }
        }
        throw new InvalidOperationException("cluster did not settle");
    }

    /// <summary>What a driver does with a Ready's snapshot and entries before Advance (no crash here, so no fsync).</summary>
    public static void Persist(MemoryLogStorage storage, Ready ready)
    {
        if (ready.Snapshot is { } snap) storage.Reset(snap.Index);
        storage.Write(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ready.Entries));
    }

    /// <summary>A lone group over in-memory storage holding <paramref name="entries"/> after the snapshot.</summary>
    public static (RaftGroup Group, MemoryLogStorage Storage) Solo(
        RaftOptions options, Membership members, HardState hard = default, SnapshotImage? snapshot = null, params Entry[] entries)
    {
        var storage = new MemoryLogStorage(snapshot?.Index ?? 0, entries);
        return (new RaftGroup(options, members, storage, new PersistedState(hard, snapshot)), storage);
    }

    /// <summary>Takes a lone group's Ready and writes it to its storage, as a driver would before Advance.</summary>
    public static Ready ReadyOf((RaftGroup Group, MemoryLogStorage Storage) solo)
    {
        var ready = solo.Group.GetReady();
        Persist(solo.Storage, ready);
        return ready;
    }

    /// <summary>Runs two lone groups against each other for <paramref name="rounds"/> rounds (each persists its Ready,
    /// then its messages reach the other); returns how many appends were rejected.</summary>
    public static int Exchange((RaftGroup Group, MemoryLogStorage Storage) a, (RaftGroup Group, MemoryLogStorage Storage) b, int rounds)
    {
        int rejections = 0;
        for (int round = 0; round < rounds; round++)
        {
            foreach (var (from, to) in new[] { (a, b), (b, a) })
            {
                if (!from.Group.HasReady) continue;
                var messages = ReadyOf(from).Messages.ToArray();
                from.Group.Advance();
                foreach (var m in messages)
                {
                    if (m.Type == MessageType.AppendResponse && m.Reject) rejections++;
                    to.Group.Step(m);
                }
            }
        }
        return rejections;
    }

    public int ElectLeader(int maxTicks = 500, long group = 0)
    {
        for (int t = 0; t < maxTicks; t++)
        {
            var leaders = Nodes.Where(n => groups.ContainsKey((n, group)) && groups[(n, group)].Role == Role.Leader && !IsIsolated(n)).ToArray();
            if (leaders.Length == 1) return leaders[0];
            Tick();
        }
        throw new InvalidOperationException("no leader elected");
    }

    private bool IsIsolated(int node) => Nodes.Where(n => n != node).All(n => cut.Contains((node, n)));

    public void Propose(int leader, string text, long group = 0) =>
        Assert.Equal(ProposeResult.Accepted, groups[(leader, group)].Propose(System.Text.Encoding.UTF8.GetBytes(text)));
}
