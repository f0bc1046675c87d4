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
    /// <summary>Each partition's replicas, node ids, as the controller placed them; the first leads. One replica each
    /// until partitions are replicated.</summary>
    public IReadOnlyList<int[]> Replicas { get; init; } = [];

    /// <summary>The node leading partition <paramref name="partition"/>; 0 when it has no placement.</summary>
    public int LeaderOf(int partition) => partition >= 0 && partition < Replicas.Count && Replicas[partition].Length > 0 ? Replicas[partition][0] : 0;

    /// <summary>The effective value of a topic config: the topic's override, else the default.</summary>
    public string Config(string name) => Configs.TryGetValue(name, out var value) ? value : TopicConfigs.Get(name).Default;
}
