namespace Eddy.Cluster;

/// <summary>
/// One topic as the controller records it. Immutable: a change makes a new instance and a new
/// <see cref="TopicsSnapshot"/>. <see cref="Revision"/> is unique per creation, so a topic deleted and created
/// again under the same name gets fresh partition directories (DESIGN: TOPIC/PARTITION_REVISION).
/// </summary>
public sealed record TopicInfo(
    string Name,
    Guid Id,
    int PartitionCount,
    short ReplicationFactor,
    IReadOnlyDictionary<string, string> Configs,
    long Revision,
    bool IsInternal)
{
    /// <summary>Each partition's replicas, node ids, as the controller placed them; the first is the preferred leader.
    /// A partition with one replica is led by it; one with more is a Raft group over them, led by whichever replica
    /// its group elected (<see cref="ClusterView.LeaderOf"/>).</summary>
    public IReadOnlyList<int[]> Replicas { get; init; } = [];

    /// <summary>The first replica of partition <paramref name="partition"/>: its leader when it has one replica, its
    /// preferred leader when it has more; 0 when it has no placement.</summary>
    public int LeaderOf(int partition) => partition >= 0 && partition < Replicas.Count && Replicas[partition].Length > 0 ? Replicas[partition][0] : 0;

    /// <summary>Whether partition <paramref name="partition"/> is a Raft group over several replicas.</summary>
    public bool IsReplicated(int partition) => partition >= 0 && partition < Replicas.Count && Replicas[partition].Length > 1;

    /// <summary>Each partition's replicas once its reassignment in progress completes, or null where none is in
    /// progress; empty when no partition of the topic is being reassigned (docs/replication.md, "Moving replicas").</summary>
    public IReadOnlyList<int[]?> Targets { get; init; } = [];

    /// <summary>The replicas partition <paramref name="partition"/> is being reassigned to, or null.</summary>
    public int[]? TargetOf(int partition) => partition >= 0 && partition < Targets.Count ? Targets[partition] : null;

    /// <summary>Whether node <paramref name="node"/> holds a replica of partition <paramref name="partition"/>: it is
    /// one of its replicas, or of those a reassignment in progress moves it to.</summary>
    public bool HasReplicaOn(int partition, int node)
        => (partition >= 0 && partition < Replicas.Count && Array.IndexOf(Replicas[partition], node) >= 0)
            || (TargetOf(partition) is { } target && Array.IndexOf(target, node) >= 0);
}
