using Eddy.Cluster;

namespace Eddy.Kafka.Groups;

/// <summary>
/// Which `__consumer_offsets` partition holds a group: Kafka's rule, abs(Java String.hashCode(groupId)) modulo the
/// partition count, so a group lands on the same partition number as it would on a Kafka broker.
/// </summary>
public static class GroupPlacement
{
    /// <summary>The internal topic that holds groups and committed offsets (the topic table creates it).</summary>
    public const string OffsetsTopic = TopicTable.OffsetsTopic;

    public static int PartitionFor(string groupId, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        int hash = JavaStringHashCode(groupId);
        // Kafka's Utils.abs maps int.MinValue to 0 rather than overflowing.
        int positive = hash == int.MinValue ? 0 : Math.Abs(hash);
        return positive % partitionCount;
    }

    /// <summary>Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, wrapping at 32 bits.</summary>
    public static int JavaStringHashCode(string value)
    {
        int hash = 0;
        foreach (char c in value)
        {
            hash = unchecked((31 * hash) + c);
        }
        return hash;
    }
}
