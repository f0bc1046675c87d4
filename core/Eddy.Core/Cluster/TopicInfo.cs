namespace Eddy.Cluster;

/// <summary>
/// One topic as the node's metadata store records it. Immutable: a change makes a new instance and a new
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
    /// <summary>The effective value of a topic config: the topic's override, else the default.</summary>
    public string Config(string name) => Configs.TryGetValue(name, out var value) ? value : TopicConfigs.Get(name).Default;
}
