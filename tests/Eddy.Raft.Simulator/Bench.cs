using System.Diagnostics;
using Eddy.Raft;

namespace Eddy.Raft.Simulator;

/// <summary>
/// The Raft core's cost without faults: 3 nodes, 1,000 groups with leaders spread evenly, instant
/// disks, one-tick network. Counts committed entries per CPU second, and network messages (one
/// envelope per node pair per flush) and Raft messages per committed entry.
/// </summary>
internal static class Bench
{
    private const int Nodes = 3;
    private const int Groups = 1000;

    public static int Run(TextWriter output)
    {
        output.WriteLine($"raft bench: {Nodes} nodes, {Groups} groups, {Environment.ProcessorCount} cpus, .NET {Environment.Version}");
        Measure(output, "warm-up", proposalsPerGroupTick: 1, ticks: 300, quiet: true);
        Measure(output, "saturated (4 proposals/group/tick)", proposalsPerGroupTick: 4, ticks: 1000);
        Measure(output, "steady (1 proposal/group/tick)", proposalsPerGroupTick: 1, ticks: 1000);
        Measure(output, "sparse (1 proposal/group/100 ticks)", proposalsPerGroupTick: 0.01, ticks: 4000);
        Measure(output, "idle (heartbeats only)", proposalsPerGroupTick: 0, ticks: 2000);
        return 0;
    }

    private static void Measure(TextWriter output, string name, double proposalsPerGroupTick, int ticks, bool quiet = false)
    {
        var cluster = new BenchCluster();
        cluster.ElectSpreadLeaders();
        var random = new SimRandom(7);
        var payload = new byte[16];
        long committedBefore = cluster.Committed();
        long envelopesBefore = cluster.Envelopes, messagesBefore = cluster.RaftMessages;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        for (int t = 0; t < ticks; t++)
        {
            for (int g = 0; g < Groups; g++)
            {
                var leader = cluster.LeaderOf(g);
                double due = proposalsPerGroupTick;
                for (; due >= 1; due--) leader.Propose(payload);
                if (random.Chance(due)) leader.Propose(payload);
            }
            cluster.Step();
        }
        for (int t = 0; t < 10; t++) cluster.Step();
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        long committed = cluster.Committed() - committedBefore;
        long envelopes = cluster.Envelopes - envelopesBefore, messages = cluster.RaftMessages - messagesBefore;
        if (quiet) return;
        output.WriteLine(committed > 0
            ? $"{name}: {committed:N0} entries committed in {ticks} ticks; {committed / cpuSeconds:N0} entries/CPU-s ({wall.Elapsed.TotalSeconds:F2} s wall); " +
              $"{(double)envelopes / committed:F3} network messages/entry batched vs {(double)messages / committed:F2} Raft messages/entry unbatched"
            : $"{name}: {envelopes:N0} network messages for {messages:N0} Raft messages in {ticks} ticks ({(double)messages / Math.Max(1, envelopes):F0} per envelope); {ticks * (double)Groups / cpuSeconds:N0} group-ticks/CPU-s");
    }

    private sealed class BenchCluster
    {
        private readonly RaftGroup[,] groups = new RaftGroup[Nodes + 1, Groups];
        private readonly MemoryLogStorage[,] storages = new MemoryLogStorage[Nodes + 1, Groups];
        private readonly EnvelopeBatcher[] batchers = new EnvelopeBatcher[Nodes + 1];
        private List<NodeEnvelope> inFlight = new();
        private List<NodeEnvelope> next = new();
        private readonly List<GroupMessage> unpacked = new();

        public BenchCluster()
        {
            var members = new Membership([1, 2, 3]);
            for (int n = 1; n <= Nodes; n++)
            {
                batchers[n] = new EnvelopeBatcher(n);
                for (int g = 0; g < Groups; g++)
                {
                    storages[n, g] = new MemoryLogStorage();
                    groups[n, g] = new RaftGroup(new RaftOptions { NodeId = n, RandomSeed = (ulong)(g * 7 + n), MaxEntriesPerMessage = 256 }, members, storages[n, g]);
                }
            }
        }

        public long Envelopes { get; private set; }
        public long RaftMessages { get; private set; }

        public RaftGroup LeaderOf(int g) => groups[1 + g % Nodes, g];

        public void ElectSpreadLeaders()
        {
            for (int g = 0; g < Groups; g++) LeaderOf(g).Campaign();
            for (int i = 0; i < 20; i++) Step();
            for (int g = 0; g < Groups; g++) { if (LeaderOf(g).Role != Role.Leader) throw new InvalidOperationException($"group {g} has no leader"); }
        }

        public long Committed()
        {
            long sum = 0;
            for (int g = 0; g < Groups; g++) sum += LeaderOf(g).Committed;
            return sum;
        }

        /// <summary>One tick: clocks, deliveries of last tick's envelopes, then every Ready.</summary>
        public void Step()
        {
            for (int n = 1; n <= Nodes; n++) { for (int g = 0; g < Groups; g++) groups[n, g].Tick(); }
            foreach (var envelope in inFlight)
            {
                envelope.Unpack(unpacked);
                foreach (var gm in unpacked) groups[envelope.To, gm.Group].Step(gm.Message);
                unpacked.Clear();
                batchers[envelope.From].Recycle(envelope);
            }
            inFlight.Clear();
            for (int n = 1; n <= Nodes; n++)
            {
                for (int g = 0; g < Groups; g++)
                {
                    var core = groups[n, g];
                    if (!core.HasReady) continue;
                    // Instant disk: persisting is free, so the figures are the core's own cost.
                    var ready = core.GetReady();
                    storages[n, g].Write(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ready.Entries));
                    foreach (var m in ready.Messages) batchers[n].Add(g, m);
                    core.Advance();
                }
                batchers[n].Flush(next);
            }
            foreach (var envelope in next)
            {
                Envelopes++;
                RaftMessages += envelope.RaftMessageCount;
            }
            (inFlight, next) = (next, inFlight);
        }
    }
}
