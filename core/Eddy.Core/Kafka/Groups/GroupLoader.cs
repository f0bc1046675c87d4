using Eddy.Observability;

namespace Eddy.Kafka.Groups;

/// <summary>
/// Rebuilds the groups of one `__consumer_offsets` partition from its records, newest per key winning (the log is
/// compacted the same way): a group metadata record gives membership and generation, offset commit records give
/// offsets, a tombstone removes what its key names. A group with members comes back Stable, as in Kafka: its
/// members carry on with their generation and their sessions start over.
/// </summary>
internal sealed class GroupLoader
{
    private readonly int _partition;
    private readonly Dictionary<string, GroupSnapshot> _metadata = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<TopicPartition, CommittedOffset>> _offsets = new(StringComparer.Ordinal);
    private int _unknownKeys;

    public GroupLoader(int partition) => _partition = partition;

    public int GroupCount { get; private set; }

    public int OffsetCount { get; private set; }

    public void Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool hasValue)
    {
        switch (OffsetsRecords.ReadKey(key, out string groupId, out var partition))
        {
            case OffsetsRecordKind.OffsetCommit:
                if (hasValue)
                {
                    var offsets = _offsets.TryGetValue(groupId, out var existing) ? existing : _offsets[groupId] = [];
                    offsets[partition] = OffsetsRecords.ReadOffsetValue(value);
                }
                else if (_offsets.TryGetValue(groupId, out var offsets))
                {
                    offsets.Remove(partition);
                }
                break;
            case OffsetsRecordKind.GroupMetadata:
                if (hasValue)
                {
                    _metadata[groupId] = OffsetsRecords.ReadGroupValue(value);
                }
                else
                {
                    _metadata.Remove(groupId);
                }
                break;
            default:
                if (_unknownKeys++ == 0)
                {
                    Log.Warn("groups", $"{GroupPlacement.OffsetsTopic}-{_partition}: skipping records with an unknown key version ({Convert.ToHexString(key[..Math.Min(2, key.Length)])}...)");
                }
                break;
        }
    }

    public List<ClassicGroup> Build()
    {
        var ids = new SortedSet<string>(_metadata.Keys, StringComparer.Ordinal);
        foreach (var (id, offsets) in _offsets)
        {
            if (offsets.Count > 0)
            {
                ids.Add(id);
            }
        }
        var groups = new List<ClassicGroup>(ids.Count);
        foreach (string id in ids)
        {
            var group = new ClassicGroup(id, _partition);
            if (_metadata.TryGetValue(id, out var snapshot))
            {
                Restore(group, snapshot);
            }
            if (_offsets.TryGetValue(id, out var offsets))
            {
                foreach (var (tp, offset) in offsets)
                {
                    group.Offsets[tp] = offset;
                }
                OffsetCount += offsets.Count;
            }
            groups.Add(group);
        }
        GroupCount = groups.Count;
        return groups;
    }

    private static void Restore(ClassicGroup group, GroupSnapshot snapshot)
    {
        group.GenerationId = snapshot.Generation;
        group.ProtocolType = snapshot.ProtocolType.Length > 0 ? snapshot.ProtocolType : null;
        group.CurrentStateTimestamp = snapshot.CurrentStateTimestamp;
        if (snapshot.Members.Count > 0 && snapshot.Protocol is { } protocol)
        {
            foreach (var m in snapshot.Members)
            {
                group.Add(new GroupMember(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost, m.RebalanceTimeoutMs, m.SessionTimeoutMs,
                    snapshot.ProtocolType, [(protocol, m.Subscription)])
                {
                    Assignment = m.Assignment,
                });
            }
            group.ProtocolName = protocol;
            group.LeaderId = snapshot.Leader is { } leader && group.Has(leader) ? leader : group.Members[0].MemberId;
            group.State = GroupState.Stable;
        }
        group.SubscribedTopics = group.ComputeSubscribedTopics();
    }
}
