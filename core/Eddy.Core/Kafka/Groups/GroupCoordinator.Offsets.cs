using System.Text;
using Eddy.Errors;
using Eddy.Kafka.Server;

namespace Eddy.Kafka.Groups;

/// <summary>One partition of an OffsetCommit.</summary>
public readonly record struct OffsetCommitEntry(string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata);

/// <summary>OffsetCommit, OffsetFetch and OffsetDelete.</summary>
public sealed partial class GroupCoordinator
{
    /// <summary>
    /// OffsetCommit. A member commits with its generation; generation -1 with no member id is a "simple" commit,
    /// allowed while the group has no members (and creating it if need be). The valid offsets are stored in one
    /// batch; the answer has one error per entry, in order.
    /// </summary>
    public async ValueTask<short[]> CommitAsync(string groupId, int generationId, string memberId, string? groupInstanceId,
        IReadOnlyList<OffsetCommitEntry> offsets)
    {
        var errors = new short[offsets.Count];
        short error = ValidateCommit(groupId, generationId, memberId, groupInstanceId, out var group);
        if (error != KafkaErrors.None)
        {
            Array.Fill(errors, error);
            return errors;
        }
        long now = Options.WallClockMs();
        var records = new List<(byte[] Key, byte[]? Value)>(offsets.Count);
        var accepted = new List<(int Index, TopicPartition Partition, CommittedOffset Offset)>(offsets.Count);
        for (int i = 0; i < offsets.Count; i++)
        {
            var entry = offsets[i];
            string metadata = entry.Metadata ?? "";
            if (!Options.TopicPartitionExists(entry.Topic, entry.Partition))
            {
                errors[i] = KafkaErrors.UnknownTopicOrPartition;
            }
            else if (Encoding.UTF8.GetByteCount(metadata) > Options.MaxOffsetMetadataBytes)
            {
                errors[i] = KafkaErrors.OffsetMetadataTooLarge;
            }
            else
            {
                var committed = new CommittedOffset(entry.Offset, entry.LeaderEpoch, metadata, now);
                records.Add((OffsetsRecords.OffsetKey(groupId, entry.Topic, entry.Partition), OffsetsRecords.OffsetValue(committed)));
                accepted.Add((i, new TopicPartition(entry.Topic, entry.Partition), committed));
            }
        }
        if (records.Count == 0)
        {
            return errors;
        }
        error = await StoreAsync(group!.Partition, records);
        foreach (var (index, partition, committed) in accepted)
        {
            errors[index] = error;
            if (error == KafkaErrors.None)
            {
                // Appends complete in order, so the newest commit is applied last, as replay would.
                group.Offsets[partition] = committed;
            }
        }
        return errors;
    }

    private short ValidateCommit(string groupId, int generationId, string memberId, string? groupInstanceId, out ClassicGroup? group)
    {
        group = null;
        short error = CheckServing(groupId);
        if (error != KafkaErrors.None)
        {
            return error;
        }
        group = FindGroup(groupId);
        if (group is null)
        {
            if (generationId >= 0)
            {
                return KafkaErrors.IllegalGeneration; // a member of a generation this coordinator never had
            }
            group = new ClassicGroup(groupId, PartitionFor(groupId));
            _groups[groupId] = group;
        }
        if (generationId >= 0 || memberId.Length > 0 || groupInstanceId is not null)
        {
            error = ValidateMember(group, memberId, groupInstanceId, generationId);
            if (error != KafkaErrors.None)
            {
                return error;
            }
        }
        else if (!group.Is(GroupState.Empty))
        {
            return KafkaErrors.UnknownMemberId; // only members commit for a group that has them
        }
        switch (group.State)
        {
            case GroupState.CompletingRebalance:
                // The member has the new generation but no assignment yet: it must not commit for the old one.
                return KafkaErrors.RebalanceInProgress;
            case GroupState.Stable or GroupState.PreparingRebalance:
                // Committing during a rebalance is allowed; the heartbeat tells the member to rejoin.
                ScheduleSession(group, group.Get(memberId));
                break;
        }
        return KafkaErrors.None;
    }

    /// <summary>
    /// OffsetFetch for one group: the committed offset of each asked partition (null where none), or of every
    /// partition with one when <paramref name="partitions"/> is null. An unknown group has no offsets, not an error.
    /// </summary>
    public (short ErrorCode, List<(TopicPartition Partition, CommittedOffset? Offset)> Offsets) FetchOffsets(string groupId,
        IReadOnlyList<TopicPartition>? partitions)
    {
        short error = CheckServing(groupId);
        if (error != KafkaErrors.None)
        {
            return (error, []);
        }
        var group = FindGroup(groupId);
        var result = new List<(TopicPartition, CommittedOffset?)>();
        if (partitions is null)
        {
            if (group is not null)
            {
                foreach (var (tp, offset) in group.Offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition))
                {
                    result.Add((tp, offset));
                }
            }
            return (KafkaErrors.None, result);
        }
        foreach (var tp in partitions)
        {
            result.Add((tp, group is not null && group.Offsets.TryGetValue(tp, out var offset) ? offset : null));
        }
        return (KafkaErrors.None, result);
    }

    /// <summary>
    /// OffsetDelete. An empty group may lose any offset; a consumer group with members only those of topics none of
    /// them subscribes to (GROUP_SUBSCRIBED_TO_TOPIC for the others); another non-empty group none (NON_EMPTY_GROUP).
    /// Returns the group error and one error per partition, in order.
    /// </summary>
    public async ValueTask<(short ErrorCode, short[] PartitionErrors)> DeleteOffsetsAsync(string groupId, IReadOnlyList<TopicPartition> partitions)
    {
        var errors = new short[partitions.Count];
        short error = CheckServing(groupId);
        var group = error == KafkaErrors.None ? FindGroup(groupId) : null;
        if (error == KafkaErrors.None && group is null)
        {
            error = KafkaErrors.GroupIdNotFound;
        }
        if (error == KafkaErrors.None && !group!.Is(GroupState.Empty) && group.ProtocolType != "consumer")
        {
            error = KafkaErrors.NonEmptyGroup;
        }
        if (error != KafkaErrors.None)
        {
            return (error, errors);
        }
        var records = new List<(byte[] Key, byte[]? Value)>();
        var deleted = new List<int>();
        for (int i = 0; i < partitions.Count; i++)
        {
            var tp = partitions[i];
            if (!Options.TopicPartitionExists(tp.Topic, tp.Partition))
            {
                errors[i] = KafkaErrors.UnknownTopicOrPartition;
            }
            else if (!group!.Is(GroupState.Empty) && (group.SubscribedTopics is not { } subscribed || subscribed.Contains(tp.Topic)))
            {
                errors[i] = KafkaErrors.GroupSubscribedToTopic; // unknown subscriptions count as subscribed
            }
            else if (group.Offsets.ContainsKey(tp))
            {
                records.Add((OffsetsRecords.OffsetKey(groupId, tp.Topic, tp.Partition), null));
                deleted.Add(i);
            }
        }
        if (records.Count == 0)
        {
            return (KafkaErrors.None, errors);
        }
        error = await StoreAsync(group!.Partition, records);
        foreach (int i in deleted)
        {
            errors[i] = error;
            if (error == KafkaErrors.None)
            {
                group.Offsets.Remove(partitions[i]);
            }
        }
        return (KafkaErrors.None, errors);
    }
}
