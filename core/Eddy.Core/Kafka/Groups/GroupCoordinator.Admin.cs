using Eddy.Errors;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Kafka.Server;

namespace Eddy.Kafka.Groups;

/// <summary>A group as ListGroups reports it.</summary>
public readonly record struct GroupListing(string GroupId, string ProtocolType, string State);

/// <summary>ListGroups, DescribeGroups and DeleteGroups.</summary>
public sealed partial class GroupCoordinator
{
    /// <summary>Every group of the partitions this coordinator has loaded (classic groups only exist here).</summary>
    public List<GroupListing> ListGroups()
    {
        _shard.AssertCurrent();
        var list = new List<GroupListing>();
        if (_stopped)
        {
            return list;
        }
        foreach (var group in _groups.Values)
        {
            if (_partitions.TryGetValue(group.Partition, out var partition) && partition.Loaded)
            {
                list.Add(new GroupListing(group.GroupId, group.ProtocolType ?? "", ClassicGroup.StateName(group.State)));
            }
        }
        return list;
    }

    /// <summary>Every committed offset of the groups this coordinator has loaded: what the consumer group lag metric
    /// compares with the partitions' high watermarks.</summary>
    public List<(string GroupId, TopicPartition Partition, long Offset)> CommittedOffsets()
    {
        _shard.AssertCurrent();
        var list = new List<(string, TopicPartition, long)>();
        if (_stopped)
        {
            return list;
        }
        foreach (var group in _groups.Values)
        {
            if (_partitions.TryGetValue(group.Partition, out var partition) && partition.Loaded)
            {
                foreach (var (topicPartition, committed) in group.Offsets)
                {
                    list.Add((group.GroupId, topicPartition, committed.Offset));
                }
            }
        }
        return list;
    }

    /// <summary>
    /// DescribeGroups for one group, shaped for the newest version: an unknown group is GROUP_ID_NOT_FOUND (the
    /// handler turns that into Kafka's older answer, state "Dead" and no error, below v6). Member metadata and
    /// assignments are only shown while the group is Stable, as in Kafka.
    /// </summary>
    public DescribeGroupsResponse.DescribedGroup Describe(string groupId)
    {
        short error = CheckServing(groupId);
        var group = error == KafkaErrors.None ? FindGroup(groupId) : null;
        if (error == KafkaErrors.None && group is null)
        {
            error = KafkaErrors.GroupIdNotFound;
        }
        if (error != KafkaErrors.None)
        {
            return new DescribeGroupsResponse.DescribedGroup
            {
                GroupId = groupId,
                ErrorCode = error,
                ErrorMessage = KafkaErrors.Describe(error),
                GroupState = "Dead",
            };
        }
        bool stable = group!.Is(GroupState.Stable);
        return new DescribeGroupsResponse.DescribedGroup
        {
            GroupId = groupId,
            GroupState = ClassicGroup.StateName(group.State),
            ProtocolType = group.ProtocolType ?? "",
            ProtocolData = stable ? group.ProtocolName ?? "" : "",
            Members = group.Members.Select(m => new DescribeGroupsResponse.DescribedGroupMember
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.GroupInstanceId,
                ClientId = m.ClientId,
                ClientHost = m.ClientHost,
                MemberMetadata = stable ? m.MetadataFor(group.ProtocolName!) ?? [] : [],
                MemberAssignment = stable ? m.Assignment : [],
            }).ToList(),
        };
    }

    /// <summary>DeleteGroups for one group: only an empty group goes, with its offsets; tombstones make it stay gone.</summary>
    public async ValueTask<short> DeleteGroupAsync(string groupId)
    {
        short error = CheckServing(groupId);
        if (error != KafkaErrors.None)
        {
            return error;
        }
        var group = FindGroup(groupId);
        if (group is null)
        {
            return KafkaErrors.GroupIdNotFound;
        }
        if (!group.Is(GroupState.Empty))
        {
            return KafkaErrors.NonEmptyGroup;
        }
        // Gone at once, so nothing new lands in it while the tombstones are written.
        _groups.Remove(groupId);
        Transition(group, GroupState.Dead);
        group.JoinTimer.Cancel();
        var records = new List<(byte[] Key, byte[]? Value)>(group.Offsets.Count + 1);
        foreach (var tp in group.Offsets.Keys)
        {
            records.Add((OffsetsRecords.OffsetKey(groupId, tp.Topic, tp.Partition), null));
        }
        records.Add((OffsetsRecords.GroupKey(groupId), null));
        error = await StoreAsync(group.Partition, records);
        if (error != KafkaErrors.None && !_groups.ContainsKey(groupId) && _partitions.ContainsKey(group.Partition))
        {
            // Not deleted on disk, so not deleted at all: a restart would bring it back.
            Transition(group, GroupState.Empty);
            _groups[groupId] = group;
        }
        return error;
    }
}
