using System.Collections.Frozen;

namespace Eddy.Cluster;

/// <summary>
/// Every topic at one moment, readable from any shard without locks: the metadata store publishes a new snapshot
/// after each change and never mutates a published one.
/// </summary>
public sealed class TopicsSnapshot
{
    public static readonly TopicsSnapshot Empty = new([]);

    public TopicsSnapshot(IEnumerable<TopicInfo> topics)
    {
        ByName = topics.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
        ById = ByName.Values.ToFrozenDictionary(t => t.Id);
    }

    public FrozenDictionary<string, TopicInfo> ByName { get; }
    public FrozenDictionary<Guid, TopicInfo> ById { get; }

    public bool TryGet(string name, out TopicInfo topic) => ByName.TryGetValue(name, out topic!);
}
