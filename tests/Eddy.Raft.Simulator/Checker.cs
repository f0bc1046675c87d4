using Eddy.Raft;

namespace Eddy.Raft.Simulator;

/// <summary>
/// What is true of one group across all nodes, gathered as the run goes, and the safety checks
/// against it. Every check is O(1) per event except leader completeness, O(uncompacted log) per
/// new leader.
/// </summary>
internal sealed class GroupTruth
{
    private readonly Dictionary<long, int> leaderOfTerm = new();
    private readonly Dictionary<(long Index, long Term), ulong> chainOf = new();
    private readonly List<(long Term, ulong Chain)> committed = new() { (0, 0) };
    private readonly List<ulong> stateAt = new() { 0 };

    public GroupTruth(long id) => Id = id;

    public long Id { get; }
    public long MaxCommitted => committed.Count - 1;
    public long Leaders => leaderOfTerm.Count;

    /// <summary>Election safety (one leader per term); leader completeness on first sight.</summary>
    public string? ObserveLeader(int node, RaftGroup core)
    {
        if (leaderOfTerm.TryGetValue(core.Term, out int existing))
        {
            return existing == node ? null : $"two leaders in term {core.Term}: {existing} and {node}";
        }
        leaderOfTerm[core.Term] = node;
        var log = core.Log;
        long top = MaxCommitted;
        if (top > log.LastIndex) return $"leader {node} term {core.Term} lacks committed entries (last {log.LastIndex} < committed {top})";
        for (long i = Math.Max(log.SnapshotIndex, 1); i <= top; i++)
        {
            var (term, _) = committed[(int)i];
            if (term != 0 && log.Term(i) != term) return $"leader {node} term {core.Term} has {i}@{log.Term(i)}, committed was {i}@{term}";
        }
        return null;
    }

    /// <summary>Log matching: equal (index, term) means an equal prefix, seen through the chain hash.</summary>
    public string? ObserveWritten(int node, long index, long term, ulong chain)
    {
        if (chainOf.TryGetValue((index, term), out var known))
        {
            return known == chain ? null : $"log matching: node {node} has {index}@{term} with a different prefix or payload";
        }
        chainOf[(index, term)] = chain;
        return null;
    }

    /// <summary>Committed entries never change and every node agrees on each committed index.</summary>
    public string? ObserveCommitted(int node, long index, long term, ulong chain)
    {
        while (committed.Count <= index) committed.Add((0, 0));
        var (knownTerm, knownChain) = committed[(int)index];
        if (knownTerm == 0)
        {
            committed[(int)index] = (term, chain);
            return null;
        }
        return knownTerm == term && knownChain == chain
            ? null
            : $"committed entry {index} changed: was {index}@{knownTerm}, node {node} committed {index}@{term}";
    }

    /// <summary>State machine safety: every node's state after applying index is the same.</summary>
    public string? ObserveApplied(int node, long index, ulong state)
    {
        while (stateAt.Count <= index) stateAt.Add(0);
        ulong known = stateAt[(int)index];
        if (known == 0)
        {
            stateAt[(int)index] = state;
            return null;
        }
        return known == state ? null : $"state machines diverge at {index} (node {node})";
    }
}
