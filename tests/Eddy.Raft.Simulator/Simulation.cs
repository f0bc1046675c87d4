using Eddy.Raft;

namespace Eddy.Raft.Simulator;

internal sealed record SeedResult(long Seed, ulong EventHash, string? Violation, bool LivenessFailed, long Ticks, long Committed, long Events, long Leaders);

/// <summary>
/// One seed's run: a fault phase of options.Ticks ticks, then a healed phase in which every group
/// must elect a leader and commit and replicate everything pending within the liveness bound.
/// Safety is checked after every step of every node.
/// </summary>
internal sealed partial class Simulation
{
    private readonly SimOptions options;
    private readonly SimRandom random;
    private readonly FaultProfile profile;
    private readonly EventLog events = new();
    private readonly SimNetwork network;
    private readonly SimNode[] nodes;
    private readonly GroupTruth[] truth;
    private readonly Membership bootstrap;
    private readonly List<GroupMessage> unpacked = new();
    private readonly List<NodeEnvelope> flushed = new();
    private readonly Dictionary<(int Node, long Group, long Request), long> readsIssued = new();
    private long now;
    private long nextCommand;
    private string? violation;

    public Simulation(SimOptions options, long seed)
    {
        this.options = options;
        Seed = seed;
        random = new SimRandom((ulong)seed * 0x2545F4914F6CDD1DUL + 1);
        profile = new FaultProfile(random);
        network = new SimNetwork(options.Nodes, random, profile, events);
        nodes = new SimNode[options.Nodes + 1];
        for (int id = 1; id <= options.Nodes; id++) nodes[id] = new SimNode(id, options.Groups);
        truth = Enumerable.Range(0, options.Groups).Select(g => new GroupTruth(g)).ToArray();
        bootstrap = new Membership(Enumerable.Range(1, options.Nodes));
        for (int id = 1; id <= options.Nodes; id++) Restart(nodes[id]);
    }

    public long Seed { get; }
    public FaultProfile Profile => profile;
    public SimNetwork Network => network;
    public long Now => now;

    public SeedResult Run() => Run(null);

    public SeedResult Run(TextWriter? report)
    {
        bool live = false;
        try
        {
            while (now < options.Ticks && violation is null) Step(faults: true);
            if (violation is null)
            {
                Heal();
                long deadline = now + profile.LivenessBound;
                while (now < deadline && violation is null && !(live = IsLive())) Step(faults: false);
            }
        }
        catch (RaftInvariantException e)
        {
            Fail($"core invariant at tick {now}: {e.Message}");
        }
        if (report is not null && (violation is not null || !live))
        {
            report.WriteLine($"profile: {System.Text.Json.JsonSerializer.Serialize(profile)}");
            report.Write(Describe());
        }
        long committed = truth.Sum(t => t.MaxCommitted);
        return new SeedResult(Seed, events.Hash, violation, violation is null && !live, now, committed, events.Count, truth.Sum(t => t.Leaders));
    }

    /// <summary>One tick of the world: faults, clocks, deliveries, disk completions.</summary>
    public void Step(bool faults)
    {
        if (faults) InjectFaults();
        RestartDueNodes();
        int offset = random.Int(options.Nodes);
        for (int k = 0; k < options.Nodes; k++)
        {
            var node = nodes[1 + (offset + k) % options.Nodes];
            if (!node.Alive) continue;
            for (int t = node.TicksThisStep(); t > 0; t--)
            {
                foreach (var rep in node.Replicas)
                {
                    rep.Core!.Tick();
                    AfterInput(node, rep);
                }
            }
        }
        Deliver();
        for (int id = 1; id <= options.Nodes; id++)
        {
            var node = nodes[id];
            if (!node.Alive) continue;
            if (node.FsyncDue >= 0 && node.FsyncDue <= now)
            {
                CompleteIo(node);
                if (faults && random.Chance(profile.CrashAfterIo))
                {
                    Crash(node);
                    continue;
                }
            }
            if (node.FsyncDue < 0) StartIo(node);
        }
        now++;
    }

    private void Fail(string what)
    {
        violation ??= what;
        events.Add(99, now);
    }

    private void Check(string? result)
    {
        if (result is not null) Fail(result);
    }

    private void AfterInput(SimNode node, Replica rep)
    {
        if (rep.Core!.Role == Role.Leader) Check(truth[rep.Group].ObserveLeader(node.Id, rep.Core));
    }

    private void Deliver()
    {
        while (network.TryReceive(now, out var envelope))
        {
            var node = nodes[envelope.To];
            if (!node.Alive) continue;
            events.Add(23, envelope.From, envelope.To, envelope.RaftMessageCount);
            envelope.Unpack(unpacked);
            foreach (var gm in unpacked)
            {
                var rep = node.Replicas[gm.Group];
                rep.Core!.Step(gm.Message);
                AfterInput(node, rep);
            }
            unpacked.Clear();
        }
    }

    /// <summary>Takes every group's Ready and writes it to the disk cache; the fsync completes later.</summary>
    private void StartIo(SimNode node)
    {
        bool any = false;
        foreach (var rep in node.Replicas)
        {
            var core = rep.Core!;
            if (!core.HasReady) continue;
            var ready = core.GetReady();
            rep.InFlight = ready;
            any = true;
            var groupTruth = truth[rep.Group];
            if (ready.Snapshot is { } snap)
            {
                var (_, _, chain) = Replica.ReadSnapshot(snap.Data);
                Check(groupTruth.ObserveWritten(node.Id, snap.Index, snap.Term, chain));
                Check(groupTruth.ObserveCommitted(node.Id, snap.Index, snap.Term, chain));
                rep.Disk.WriteSnapshot(snap, chain);
                rep.KnownCommit = Math.Max(rep.KnownCommit, snap.Index);
            }
            if (ready.Entries.Count > 0) WriteEntries(node, rep, ready.Entries);
            if (ready.HasHardState)
            {
                rep.Disk.WriteHardState(ready.HardState);
                ObserveCommit(node, rep, ready.HardState.Commit);
            }
        }
        if (!any) return;
        node.FsyncDue = now + random.Int(profile.FsyncMax + 1);
        if (node.FsyncDue == now) CompleteIo(node);
    }

    private void WriteEntries(SimNode node, Replica rep, List<Entry> entries)
    {
        var copy = entries.ToArray();
        if (!rep.Disk.Written.EndsEntry(copy[0].Index - 1))
        {
            // The log would be cut inside a record batch: only a follower that took entries after the wrong prefix does it.
            Fail($"node {node.Id} group {rep.Group} writes from {copy[0].Index}, inside an entry it holds");
            return;
        }
        var chains = new ulong[copy.Length];
        ulong prev = rep.Disk.Written.ChainAt(copy[0].Index - 1);
        for (int i = 0; i < copy.Length; i++)
        {
            ref readonly var e = ref copy[i];
            prev = EventLog.Mix(EventLog.Mix(EventLog.Mix(EventLog.Mix(prev, e.Index), e.LastIndex), e.Term), (long)EventLog.HashBytes(e.Data.Span) ^ (long)e.Type);
            chains[i] = prev;
            Check(truth[rep.Group].ObserveWritten(node.Id, e.LastIndex, e.Term, prev));
        }
        rep.Disk.WriteEntries(copy, chains);
        events.Add(24, node.Id, rep.Group, copy[^1].LastIndex, copy[^1].Term);
    }

    private void ObserveCommit(SimNode node, Replica rep, long commit)
    {
        var written = rep.Disk.Written;
        long from = Math.Max(rep.KnownCommit, written.BaseIndex) + 1;
        if (commit < from) return;
        if (!written.EndsEntry(commit))
        {
            Fail($"node {node.Id} group {rep.Group} committed {commit}, inside an entry");
            return;
        }
        var entries = new List<Entry>();
        written.Log.Read(from, commit, int.MaxValue, entries);
        foreach (var e in entries)
        {
            Check(truth[rep.Group].ObserveCommitted(node.Id, e.LastIndex, e.Term, written.ChainAt(e.LastIndex)));
        }
        rep.KnownCommit = commit;
    }

    /// <summary>The fsync completed: now messages may leave and committed entries apply.</summary>
    private void CompleteIo(SimNode node)
    {
        foreach (var rep in node.Replicas) { if (rep.InFlight is not null) rep.Disk.Sync(); }
        foreach (var rep in node.Replicas)
        {
            if (rep.InFlight is not { } ready) continue;
            foreach (var m in ready.Messages) node.Batcher.Add(rep.Group, m);
            Apply(node, rep, ready);
            rep.InFlight = null;
            rep.Core!.Advance();
            AfterInput(node, rep);
            MaybeCompact(rep);
        }
        node.FsyncDue = -1;
        node.Batcher.Flush(flushed);
        foreach (var envelope in flushed) network.Send(envelope, now);
        flushed.Clear();
    }

    private void Apply(SimNode node, Replica rep, Ready ready)
    {
        var groupTruth = truth[rep.Group];
        if (ready.Snapshot is { } snap)
        {
            var (applied, state, _) = Replica.ReadSnapshot(snap.Data);
            if (applied != snap.Index) Fail($"snapshot at {snap.Index} holds state of {applied}");
            rep.AppliedIndex = applied;
            rep.StateHash = state;
            Check(groupTruth.ObserveApplied(node.Id, applied, state));
        }
        foreach (var e in ready.CommittedEntries)
        {
            if (e.Index != rep.AppliedIndex + 1) Fail($"node {node.Id} applied {e.Index} after {rep.AppliedIndex}");
            rep.StateHash = EventLog.Mix(EventLog.Mix(EventLog.Mix(EventLog.Mix(rep.StateHash, e.Index), e.LastIndex), e.Term), (long)EventLog.HashBytes(e.Data.Span));
            rep.AppliedIndex = e.LastIndex;
            Check(groupTruth.ObserveApplied(node.Id, e.LastIndex, rep.StateHash));
        }
        foreach (var read in ready.ReadStates)
        {
            // Linearizability of read-index: the read point covers every commit seen before the read began.
            if (readsIssued.Remove((node.Id, rep.Group, read.RequestId), out long floor) && read.Index < floor)
            {
                Fail($"stale read on node {node.Id} group {rep.Group}: index {read.Index} < committed {floor}");
            }
        }
    }

    private void MaybeCompact(Replica rep)
    {
        var core = rep.Core!;
        if (core.Applied - core.Log.SnapshotIndex < profile.CompactEvery || rep.AppliedIndex != core.Applied) return;
        ulong chain = rep.Disk.Written.ChainAt(core.Applied);
        var image = core.Compact(core.Applied, rep.SnapshotData());
        if (image is not null) rep.Disk.Compact(image, chain);
    }
}
