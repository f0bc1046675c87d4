using System.Diagnostics;
using Eddy.Observability;

namespace Eddy.Raft.Driver;

/// <summary>
/// What the replicated partitions on one shard did since start: leaderships gained and lost, and how long each
/// proposal took from being proposed to being committed (acks=all's wait). One per shard thread (the replicas of a
/// shard run only on it), so plain increments; a scrape copies it on the shard.
/// </summary>
public sealed class ReplicationStats
{
    [ThreadStatic]
    private static ReplicationStats? t_here;

    /// <summary>The calling shard's.</summary>
    public static ReplicationStats Here => t_here ??= new ReplicationStats();

    public long LeadershipsGained { get; private set; }
    public long LeadershipsLost { get; private set; }
    public LatencyHistogram CommitLatency { get; } = new();

    public void LeadershipChanged(bool leads)
    {
        if (leads)
        {
            LeadershipsGained++;
        }
        else
        {
            LeadershipsLost++;
        }
    }

    public void Committed(long proposedTicks) => CommitLatency.Record(Stopwatch.GetTimestamp() - proposedTicks);

    public ReplicationStats Copy()
    {
        var copy = new ReplicationStats { LeadershipsGained = LeadershipsGained, LeadershipsLost = LeadershipsLost };
        copy.CommitLatency.Add(CommitLatency);
        return copy;
    }
}
