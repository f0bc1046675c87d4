using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Client;

/// <summary>Consumer group operations as Kafka's admin client does them: list, describe, delete, read and commit
/// offsets. Each group's requests go to its coordinator, found again when it moves.</summary>
public sealed class GroupAdmin(KafkaClient client)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Every group on every broker (each broker lists the groups it coordinates).</summary>
    public async Task<IReadOnlyList<ListGroupsResponse.ListedGroup>> ListAsync(CancellationToken cancel = default)
    {
        var metadata = await client.MetadataAsync([], cancel);
        var groups = new List<ListGroupsResponse.ListedGroup>();
        foreach (var broker in metadata.Brokers)
        {
            var answer = await client.RetryAsync(c => client.CallAsync<ListGroupsResponse>(broker.NodeId, new ListGroupsRequest(), c), Patience, cancel);
            KafkaException.ThrowIfError($"list groups on broker {broker.NodeId}", answer.ErrorCode);
            groups.AddRange(answer.Groups);
        }
        return groups.DistinctBy(g => g.GroupId).OrderBy(g => g.GroupId, StringComparer.Ordinal).ToList();
    }

    public async Task<DescribeGroupsResponse.DescribedGroup> DescribeAsync(string group, CancellationToken cancel = default)
    {
        var answer = await OnCoordinatorAsync<DescribeGroupsResponse>(group, new DescribeGroupsRequest { Groups = [group] }, r => r.Groups.Single().ErrorCode, cancel);
        var described = answer.Groups.Single();
        KafkaException.ThrowIfError($"describe group {group}", described.ErrorCode, described.ErrorMessage);
        return described;
    }

    public async Task DeleteAsync(string group, CancellationToken cancel = default)
    {
        var answer = await OnCoordinatorAsync<DeleteGroupsResponse>(group, new DeleteGroupsRequest { GroupsNames = [group] }, r => r.Results.Single().ErrorCode, cancel);
        KafkaException.ThrowIfError($"delete group {group}", answer.Results.Single().ErrorCode);
    }

    /// <summary>The group's committed offsets: of one topic's partitions, or of every topic (null).</summary>
    public async Task<Dictionary<(string Topic, int Partition), long>> OffsetsAsync(string group, string? topic, CancellationToken cancel = default)
    {
        var request = new OffsetFetchRequest { GroupId = group, Topics = null };
        if (topic is not null)
        {
            var info = (await client.MetadataAsync([topic], cancel)).Topic(topic);
            request.Topics = [new OffsetFetchRequest.OffsetFetchRequestTopic { Name = topic, PartitionIndexes = info.Partitions.Select(p => p.Index).ToList() }];
        }
        var answer = await OnCoordinatorAsync<OffsetFetchResponse>(group, request, r => r.ErrorCode, cancel);
        KafkaException.ThrowIfError($"fetch the offsets of group {group}", answer.ErrorCode);
        var offsets = new Dictionary<(string, int), long>();
        foreach (var t in answer.Topics)
        {
            foreach (var p in t.Partitions)
            {
                KafkaException.ThrowIfError($"fetch the offset of group {group} on {t.Name}/{p.PartitionIndex}", p.ErrorCode);
                if (p.CommittedOffset >= 0)
                {
                    offsets[(t.Name, p.PartitionIndex)] = p.CommittedOffset;
                }
            }
        }
        return offsets;
    }

    /// <summary>The committed offsets of one topic by partition.</summary>
    public async Task<Dictionary<int, long>> CommittedAsync(string group, string topic, CancellationToken cancel = default) =>
        (await OffsetsAsync(group, topic, cancel)).ToDictionary(kv => kv.Key.Partition, kv => kv.Value);

    /// <summary>Commits offsets outside any generation (as a tool does, not a member): the coordinator accepts it only
    /// while the group has no members.</summary>
    public Task CommitAsync(string group, string topic, IReadOnlyDictionary<int, long> offsets, CancellationToken cancel = default) =>
        CommitAsync(group, offsets.ToDictionary(o => (topic, o.Key), o => o.Value), generation: -1, memberId: "", cancel);

    /// <summary>Commits the next offset to read of each partition, as the member <paramref name="memberId"/> of
    /// <paramref name="generation"/> (-1 and "" for a tool outside the group's generations).</summary>
    internal async Task CommitAsync(string group, IReadOnlyDictionary<(string Topic, int Partition), long> offsets, int generation, string memberId,
        CancellationToken cancel)
    {
        var request = new OffsetCommitRequest
        {
            GroupId = group, GenerationIdOrMemberEpoch = generation, MemberId = memberId,
            Topics = offsets.GroupBy(o => o.Key.Topic).Select(t => new OffsetCommitRequest.OffsetCommitRequestTopic
            {
                Name = t.Key,
                Partitions = t.Select(o => new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = o.Key.Partition, CommittedOffset = o.Value }).ToList(),
            }).ToList(),
        };
        var answer = await OnCoordinatorAsync<OffsetCommitResponse>(group, request,
            r => r.Topics.SelectMany(t => t.Partitions).Select(p => p.ErrorCode).FirstOrDefault(e => e != KafkaErrors.None), cancel);
        foreach (var t in answer.Topics)
        {
            foreach (var p in t.Partitions)
            {
                KafkaException.ThrowIfError($"commit group {group}'s offset on {t.Name}/{p.PartitionIndex}", p.ErrorCode);
            }
        }
    }

    /// <summary>Sends to the group's coordinator; while it answers that it is not (or not yet) the coordinator, finds
    /// it again and retries.</summary>
    internal Task<T> OnCoordinatorAsync<T>(string group, IKafkaMessage request, Func<T, short> error, CancellationToken cancel) where T : IKafkaMessage
        => client.RetryAsync(async c =>
        {
            var found = await client.CallAnyAsync<FindCoordinatorResponse>(new FindCoordinatorRequest { Key = group, KeyType = 0 }, c);
            KafkaException.ThrowIfError($"find the coordinator of group {group}", found.ErrorCode, found.ErrorMessage);
            if (client.Known?.Broker(found.NodeId) is null)
            {
                await client.MetadataAsync([], c);
            }
            var answer = await client.CallAsync<T>(found.NodeId, request, c);
            short code = error(answer);
            if (code is KafkaErrors.NotCoordinator or KafkaErrors.CoordinatorNotAvailable or KafkaErrors.CoordinatorLoadInProgress)
            {
                throw KafkaException.For($"group {group}", code);
            }
            return answer;
        }, Patience, cancel);
}
