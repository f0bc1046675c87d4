using Eddy.Raft;

namespace Eddy.Raft.Simulator;

internal sealed partial class Simulation
{
    private void InjectFaults()
    {
        if (random.Chance(profile.CrashRate))
        {
            var alive = nodes.Skip(1).Where(n => n.Alive).ToArray();
            if (alive.Length > 0) Crash(random.Pick(alive));
        }
        // Partitions may stack: a second cut on top of the first makes the odd shapes figure 8 needs.
        if (random.Chance(profile.PartitionRate)) Partition();
        else if (network.AnyBlocked && random.Chance(profile.HealRate)) network.HealAll();
        foreach (var t in truth)
        {
            if (random.Chance(profile.ProposeRate)) ProposeCommand(t.Id);
        }
        if (random.Chance(profile.ReadRate)) IssueRead(random.Int(options.Groups));
        if (random.Chance(profile.MembershipRate)) ChangeMembership(random.Int(options.Groups));
        if (random.Chance(profile.TransferRate)) TransferLeadership(random.Int(options.Groups));
    }

    private void Crash(SimNode node)
    {
        events.Add(10, node.Id, now);
        node.Alive = false;
        foreach (var rep in node.Replicas)
        {
            rep.Disk.Crash(random, profile.TornWrite);
            rep.Core = null;
            rep.InFlight = null;
        }
        node.FsyncDue = -1;
        node.RestartAt = now + random.Between(1, profile.RestartMax);
    }

    private void RestartDueNodes()
    {
        for (int id = 1; id <= options.Nodes; id++)
        {
            var node = nodes[id];
            if (!node.Alive && node.RestartAt <= now) Restart(node);
        }
    }

    /// <summary>Rebuilds a node from what its disk kept; its clock comes back with a new skew.</summary>
    private void Restart(SimNode node)
    {
        events.Add(11, node.Id, now);
        node.Alive = true;
        node.ClockRate = 1 + (random.Double() * 2 - 1) * profile.Skew;
        node.ClockDebt = 0;
        foreach (var rep in node.Replicas)
        {
            // After a crash what was written is what was durable; the core reads the entries the disk goes on writing.
            var disk = rep.Disk.Written;
            rep.Core = new RaftGroup(CoreOptions(node.Id), bootstrap, disk.Log, new PersistedState(disk.HardState, disk.Snapshot));
            (rep.AppliedIndex, rep.StateHash) = disk.Snapshot is { } snap ? (snap.Index, Replica.ReadSnapshot(snap.Data).State) : (0, 0UL);
            rep.KnownCommit = disk.BaseIndex;
        }
    }

    private RaftOptions CoreOptions(int nodeId) => new()
    {
        NodeId = nodeId,
        ElectionTicks = profile.ElectionTicks,
        HeartbeatTicks = profile.HeartbeatTicks,
        MaxEntriesPerMessage = profile.MaxEntriesPerMessage,
        MaxInflightMessages = profile.MaxInflight,
        MaxUncommittedEntries = profile.MaxUncommitted,
        RandomSeed = random.Next(),
        Bug = options.Bug,
    };

    private void Partition()
    {
        int kind = random.Int(3);
        events.Add(12, kind, now);
        var ids = Enumerable.Range(1, options.Nodes).ToArray();
        switch (kind)
        {
            case 0:
                // Symmetric split into two sides.
                var side = ids.Where(_ => random.Chance(0.5)).ToHashSet();
                foreach (int a in ids)
                {
                    foreach (int b in ids) { if (side.Contains(a) != side.Contains(b)) network.Block(a, b); }
                }
                break;
            case 1:
                // Asymmetric: some links fail in one direction only.
                for (int i = random.Between(1, options.Nodes); i > 0; i--)
                {
                    int from = random.Pick(ids), to = random.Pick(ids);
                    if (from != to) network.Block(from, to);
                }
                break;
            default:
                // Isolate the node that leads the most groups.
                int leader = ids.MaxBy(id => nodes[id].Replicas.Count(r => r.Core?.Role == Role.Leader));
                foreach (int other in ids) { if (other != leader) { network.Block(leader, other); network.Block(other, leader); } }
                break;
        }
    }

    /// <summary>Any alive node that believes it leads the group (possibly a stale one).</summary>
    private (SimNode Node, RaftGroup Core)? LeaderOf(long group)
    {
        int offset = random.Int(options.Nodes);
        for (int k = 0; k < options.Nodes; k++)
        {
            var node = nodes[1 + (offset + k) % options.Nodes];
            var core = node.Replicas[group].Core;
            if (node.Alive && core?.Role == Role.Leader) return (node, core);
        }
        return null;
    }

    private void ProposeCommand(long group)
    {
        if (LeaderOf(group) is not var (node, core)) return;
        long id = ++nextCommand;
        var result = core.Propose(BitConverter.GetBytes(id), random.Between(1, profile.MaxEntrySpan));
        events.Add(13, node.Id, group, id, (long)result);
        AfterInput(node, node.Replicas[group]);
    }

    private void IssueRead(long group)
    {
        if (LeaderOf(group) is not var (node, core)) return;
        long id = ++nextCommand;
        if (core.ReadIndex(id) == ProposeResult.Accepted) readsIssued[(node.Id, group, id)] = truth[group].MaxCommitted;
        events.Add(14, node.Id, group, id);
    }

    private void TransferLeadership(long group)
    {
        if (LeaderOf(group) is not var (node, core)) return;
        var voters = core.Membership.Voters.ToArray();
        int target = voters[random.Int(voters.Length)];
        var result = core.TransferLeadership(target);
        events.Add(15, node.Id, group, target, (long)result);
    }

    /// <summary>One-server steps: remove a voter, add it back as a learner, promote it once caught up.</summary>
    private void ChangeMembership(long group)
    {
        if (LeaderOf(group) is not var (node, core)) return;
        var members = core.Membership;
        var outsiders = Enumerable.Range(1, options.Nodes).Where(id => !members.Contains(id)).ToArray();
        var learners = members.Learners.ToArray();
        var removable = members.Voters.ToArray().Where(v => v != node.Id).ToArray();
        int minVoters = options.Nodes >= 5 ? 3 : 2;
        ConfigChange change;
        if (learners.Length > 0 && core.Progress.TryGetValue(learners[0], out var pr) && pr.Match >= core.Committed)
            change = new ConfigChange(ConfigChangeKind.PromoteLearner, learners[0]);
        else if (outsiders.Length > 0 && (random.Chance(0.5) || members.Voters.Length <= minVoters))
            change = new ConfigChange(ConfigChangeKind.AddLearner, random.Pick(outsiders));
        else if (members.Voters.Length > minVoters && removable.Length > 0)
            change = new ConfigChange(ConfigChangeKind.Remove, random.Pick(removable));
        else
            return;
        var result = core.ProposeConfigChange(change);
        events.Add(16, node.Id, group, (long)change.Kind * 100 + change.NodeId, (long)result);
        AfterInput(node, node.Replicas[group]);
    }

    private void Heal()
    {
        events.Add(17, now);
        network.HealAll();
        profile.Calm();
        foreach (var node in nodes.Skip(1)) { if (!node.Alive) Restart(node); }
    }

    /// <summary>Liveness: each group has a leader that committed all it holds in its own term, on every member.</summary>
    private bool IsLive()
    {
        for (long g = 0; g < options.Groups; g++)
        {
            (SimNode Node, RaftGroup Core)? best = null;
            for (int id = 1; id <= options.Nodes; id++)
            {
                var core = nodes[id].Replicas[g].Core;
                if (core?.Role == Role.Leader && (best is null || core.Term > best.Value.Core.Term)) best = (nodes[id], core);
            }
            if (best is not var (_, leader)) return false;
            if (leader.Committed != leader.LastIndex || leader.Log.Term(leader.Committed) != leader.Term) return false;
            foreach (int id in leader.Membership.Voters) { if (!CaughtUp(id, g, leader)) return false; }
            foreach (int id in leader.Membership.Learners) { if (!CaughtUp(id, g, leader)) return false; }
        }
        return true;
    }

    private bool CaughtUp(int id, long group, RaftGroup leader)
    {
        var core = nodes[id].Replicas[group].Core;
        return core is not null && core.Committed >= leader.LastIndex && core.Term == leader.Term;
    }

    /// <summary>Every replica's view, for a replayed seed's report.</summary>
    public string Describe()
    {
        var text = new System.Text.StringBuilder();
        for (long g = 0; g < options.Groups; g++)
        {
            for (int id = 1; id <= options.Nodes; id++)
            {
                var core = nodes[id].Replicas[g].Core;
                text.Append(core is null
                    ? $"  g{g} n{id} down\n"
                    : $"  g{g} n{id} {core.Role} t{core.Term} lead={core.Leader} vote={core.VotedFor} commit={core.Committed} last={core.LastIndex} stable={core.Log.Stable} snap={core.Log.SnapshotIndex} {core.Membership} transferee={core.LeadTransferee} fsync={nodes[id].FsyncDue} inflight={nodes[id].Replicas[g].InFlight is not null}\n");
                if (core?.Role == Role.Leader)
                {
                    foreach (var (peer, pr) in core.Progress)
                        text.Append($"     -> {peer} {pr.State} match={pr.Match} next={pr.Next} probeSent={pr.ProbeSent} full={pr.InflightFull} active={pr.RecentActive}\n");
                }
            }
        }
        return text.ToString();
    }
}
