using Eddy.Raft;

namespace Eddy.Cluster;

/// <summary>
/// Which Raft group a replicated partition is: its topic's revision (unique per creation, and at least 1) shifted
/// past the partition index, so every incarnation of every partition has its own group, on every node alike, and group
/// 0 stays the controller's.
/// </summary>
public static class PartitionGroups
{
    /// <summary>Bits for the partition index: <see cref="ClusterView.MaxPartitionsPerTopic"/> fits below 2^17.</summary>
    public const int PartitionBits = 17;

    public static long IdOf(TopicInfo topic, int partition)
    {
        Invariant.True(topic.Revision > 0 && topic.Revision < 1L << (62 - PartitionBits), "a topic's revision is positive and bounded");
        Invariant.True(partition >= 0 && partition < 1 << PartitionBits, "a partition index fits its bits");
        return topic.Revision << PartitionBits | (long)partition;
    }
}
