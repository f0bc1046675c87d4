using System.Collections.Frozen;
using Eddy.Rpc;

namespace Eddy.Cluster;

/// <summary>Topic commands applied to the view, and the placement of new partitions on the cluster's nodes.</summary>
public sealed partial record ClusterView
{
    /// <summary>Partitions one topic may have, whatever a proposer allowed: bounds the work of one command.</summary>
    public const int MaxPartitionsPerTopic = 100_000;

    private ClusterView ApplyTopicChange(ControllerCommandType type, TopicInfo proposed, IReadOnlyList<int> voters)
    {
        Topics.TryGetValue(proposed.Name, out var current);
        bool same = current is not null && current.Id == proposed.Id;
        TopicInfo? next;
        switch (type)
        {
            case ControllerCommandType.CreateTopic when current is null && CollidesWith(proposed.Name) is null
                && proposed.PartitionCount is > 0 and <= MaxPartitionsPerTopic:
                next = proposed with { Revision = NextRevision, Replicas = Place(proposed.Name, proposed.ReplicationFactor, 0, proposed.PartitionCount, [], voters) };
                return With(next, NextRevision + 1);
            case ControllerCommandType.DeleteTopic when same:
                return Without(proposed.Name) with { Leaders = LeadersWithout(proposed.Name) };
            case ControllerCommandType.CreatePartitions when same && proposed.PartitionCount > current!.PartitionCount
                && proposed.PartitionCount <= MaxPartitionsPerTopic:
                next = current with
                {
                    PartitionCount = proposed.PartitionCount,
                    Replicas = Place(current.Name, current.ReplicationFactor, current.PartitionCount, proposed.PartitionCount, current.Replicas, voters),
                };
                return With(next, NextRevision);
            case ControllerCommandType.AlterTopicConfigs when same:
                return With(current! with { Configs = proposed.Configs }, NextRevision);
            case ControllerCommandType.ReassignPartitions when same:
                return With(Reassigned(current!, proposed, voters), NextRevision);
            case ControllerCommandType.CompleteReassignment when same:
                return With(Completed(current!, proposed), NextRevision);
            default:
                // A change to a topic that is gone, was recreated, or already exists: the proposer finds out by looking.
                return this;
        }
    }

    /// <summary>An existing topic whose name differs from <paramref name="name"/> only in '.' versus '_' (Kafka refuses
    /// such names: their metric names collide).</summary>
    public string? CollidesWith(string name)
    {
        string normalized = name.Replace('.', '_');
        foreach (var existing in Topics.Keys)
        {
            if (existing != name && existing.Replace('.', '_') == normalized)
            {
                return existing;
            }
        }
        return null;
    }

    /// <summary>The nodes partitions may be placed on: the controller's voters and every registered broker, less the removed
    /// and the draining ones.</summary>
    public int[] PlacementNodes(IReadOnlyList<int> voters)
        => [.. voters.Concat(Brokers.Select(b => b.NodeId)).Distinct().Where(id => !Removed.Contains(id) && !Draining.Contains(id)).Order()];

    /// <summary>
    /// Replicas for partitions [from, to) of a topic, keeping those before. The first replica (the preferred leader) goes
    /// on the node leading the fewest partitions now; the others on the nodes holding the fewest replicas, each node
    /// once. Ties are broken by a rotation that starts at a point derived from the topic name and partition, so that
    /// many small topics do not all start on the same node. A topic asking for more replicas than there are nodes gets
    /// one on each (the proposer refuses that with INVALID_REPLICATION_FACTOR before it gets here).
    /// </summary>
    private int[][] Place(string topic, short replicationFactor, int from, int to, IReadOnlyList<int[]> existing, IReadOnlyList<int> voters)
    {
        var nodes = PlacementNodes(voters);
        var leading = new Dictionary<int, int>();
        var holding = new Dictionary<int, int>();
        foreach (int node in nodes)
        {
            leading[node] = 0;
            holding[node] = 0;
        }
        foreach (var other in Topics.Values)
        {
            for (int p = 0; p < other.PartitionCount && p < other.Replicas.Count; p++)
            {
                Count(other.Replicas[p]);
            }
        }
        var replicas = new int[to][];
        for (int p = 0; p < from; p++)
        {
            replicas[p] = existing[p];
        }
        int count = Math.Clamp((int)replicationFactor, 1, Math.Max(1, nodes.Length));
        uint start = Fnv(topic);
        for (int p = from; p < to; p++)
        {
            var chosen = new int[count];
            for (int r = 0; r < count; r++)
            {
                var load = r == 0 ? leading : holding;
                int best = -1;
                for (int i = 0; i < nodes.Length; i++)
                {
                    int node = nodes[(int)((start + (uint)p + (uint)i) % (uint)nodes.Length)];
                    if (Array.IndexOf(chosen, node, 0, r) < 0 && (best < 0 || load[node] < load[best]))
                    {
                        best = node;
                    }
                }
                chosen[r] = best;
            }
            replicas[p] = chosen;
            Count(chosen);
        }
        return replicas;

        void Count(int[] placed)
        {
            for (int r = 0; r < placed.Length; r++)
            {
                if (holding.TryGetValue(placed[r], out int held))
                {
                    holding[placed[r]] = held + 1;
                    leading[placed[r]] += r == 0 ? 1 : 0;
                }
            }
        }
    }

    private ClusterView With(TopicInfo topic, long nextRevision)
    {
        var topics = new Dictionary<string, TopicInfo>(Topics, StringComparer.Ordinal) { [topic.Name] = topic };
        return this with { Topics = topics.ToFrozenDictionary(StringComparer.Ordinal), NextRevision = nextRevision };
    }

    private ClusterView Without(string name)
    {
        var topics = new Dictionary<string, TopicInfo>(Topics, StringComparer.Ordinal);
        topics.Remove(name);
        return this with { Topics = topics.ToFrozenDictionary(StringComparer.Ordinal) };
    }

    private static TopicInfo DecodeTopic(byte[] record)
    {
        try
        {
            return TopicRecord.Decode(record);
        }
        catch (Exception e) when (e is InvalidDataException or OverflowException)
        {
            throw new RpcFormatException($"a topic in the controller's state cannot be read: {e.Message}");
        }
    }

    // FNV-1a: the same on every node (string.GetHashCode is randomized per process).
    private static uint Fnv(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }
        return hash;
    }
}
