using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Client.Consuming;

/// <summary>
/// A member of a classic consumer group, as Kafka's consumers join one: JoinGroup with the "consumer" protocol and the
/// range assignor, SyncGroup (the leader hands out the partitions), a heartbeat every second on its own task, offsets
/// committed in the member's generation, LeaveGroup when disposed. When a heartbeat says the group is rebalancing (or
/// no longer knows this generation) <see cref="RebalanceNeeded"/> turns true; the owner commits what it read and calls
/// <see cref="RejoinAsync"/>, which ends with the new <see cref="Assignment"/>.
/// </summary>
public sealed class GroupMember : IAsyncDisposable
{
    private const string ProtocolType = "consumer", Assignor = "range";
    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(10), RebalanceTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    private readonly KafkaClient _client;
    private readonly GroupAdmin _admin;
    private readonly IReadOnlyList<string> _topics;
    private readonly CancellationTokenSource _stop = new();
    private Task _heartbeats = Task.CompletedTask;
    private volatile bool _rebalanceNeeded;

    private GroupMember(KafkaClient client, string group, IReadOnlyList<string> topics)
    {
        _client = client;
        _admin = new GroupAdmin(client);
        Group = group;
        _topics = topics;
    }

    public string Group { get; }
    public string MemberId { get; private set; } = "";
    public int Generation { get; private set; } = -1;
    public IReadOnlyList<(string Topic, int Partition)> Assignment { get; private set; } = [];

    /// <summary>True once a heartbeat learned that the group is rebalancing or has moved past this generation.</summary>
    public bool RebalanceNeeded => _rebalanceNeeded;

    /// <summary>Joins <paramref name="group"/> subscribed to <paramref name="topics"/> and returns once it has its
    /// partitions.</summary>
    public static async Task<GroupMember> JoinAsync(KafkaClient client, string group, IReadOnlyList<string> topics, CancellationToken cancel = default)
    {
        var member = new GroupMember(client, group, topics);
        await member.RejoinAsync(cancel);
        return member;
    }

    public async Task RejoinAsync(CancellationToken cancel = default)
    {
        await StopHeartbeatsAsync();
        while (true)
        {
            var joined = await JoinOnceAsync(cancel);
            if (joined.ErrorCode == KafkaErrors.MemberIdRequired)
            {
                MemberId = joined.MemberId; // KIP-394: the coordinator names the member, then it joins again
                continue;
            }
            if (joined.ErrorCode == KafkaErrors.UnknownMemberId)
            {
                MemberId = "";
                continue;
            }
            KafkaException.ThrowIfError($"join group {Group}", joined.ErrorCode);
            MemberId = joined.MemberId;
            Generation = joined.GenerationId;
            var assignments = joined.Leader == MemberId ? await AssignAsync(joined.Members, cancel) : [];
            var synced = await _admin.OnCoordinatorAsync<SyncGroupResponse>(Group, new SyncGroupRequest
            {
                GroupId = Group, GenerationId = Generation, MemberId = MemberId, ProtocolType = ProtocolType, ProtocolName = Assignor,
                Assignments = assignments,
            }, r => r.ErrorCode, cancel);
            if (synced.ErrorCode is KafkaErrors.RebalanceInProgress or KafkaErrors.IllegalGeneration)
            {
                continue; // another member joined meanwhile: join the next generation
            }
            KafkaException.ThrowIfError($"sync group {Group}", synced.ErrorCode);
            Assignment = ReadAssignment(synced.Assignment);
            _rebalanceNeeded = false;
            _heartbeats = Task.Run(() => HeartbeatAsync(Generation, _stop.Token), CancellationToken.None);
            return;
        }
    }

    /// <summary>Commits <paramref name="offsets"/> (the next offset to read, per partition) in this generation.</summary>
    public Task CommitAsync(IReadOnlyDictionary<(string Topic, int Partition), long> offsets, CancellationToken cancel = default) =>
        _admin.CommitAsync(Group, offsets, Generation, MemberId, cancel);

    private Task<JoinGroupResponse> JoinOnceAsync(CancellationToken cancel)
    {
        var subscription = new KafkaWriter(256);
        subscription.WriteInt16(0);
        new ConsumerProtocolSubscription { Topics = [.. _topics] }.Write(subscription, 0);
        return _admin.OnCoordinatorAsync<JoinGroupResponse>(Group, new JoinGroupRequest
        {
            GroupId = Group, MemberId = MemberId, ProtocolType = ProtocolType,
            SessionTimeoutMs = (int)SessionTimeout.TotalMilliseconds, RebalanceTimeoutMs = (int)RebalanceTimeout.TotalMilliseconds,
            Protocols = [new JoinGroupRequest.JoinGroupRequestProtocol { Name = Assignor, Metadata = subscription.ToArray() }],
        }, r => r.ErrorCode, cancel);
    }

    /// <summary>The leader's range assignment (Kafka's RangeAssignor): per topic, its partitions in order cut into
    /// contiguous ranges over the members subscribed to it, sorted by member id, the first ones taking one more.</summary>
    private async Task<List<SyncGroupRequest.SyncGroupRequestAssignment>> AssignAsync(List<JoinGroupResponse.JoinGroupResponseMember> members, CancellationToken cancel)
    {
        var subscriptions = members.ToDictionary(m => m.MemberId, m =>
        {
            var r = KafkaReader.OverSpan(m.Metadata);
            short version = r.ReadInt16();
            var subscription = new ConsumerProtocolSubscription();
            subscription.Read(ref r, Math.Min(version, ConsumerProtocolSubscription.HighestVersion));
            return subscription.Topics;
        });
        var topics = subscriptions.Values.SelectMany(t => t).Distinct().ToList();
        var metadata = await _client.MetadataAsync(topics, cancel);
        var owned = members.ToDictionary(m => m.MemberId, _ => new Dictionary<string, List<int>>());
        foreach (string topic in topics.Where(metadata.Topics.ContainsKey))
        {
            var subscribers = subscriptions.Where(s => s.Value.Contains(topic)).Select(s => s.Key).Order(StringComparer.Ordinal).ToList();
            int partitions = metadata.Topics[topic].Partitions.Count, each = partitions / subscribers.Count, extra = partitions % subscribers.Count;
            for (int i = 0, next = 0; i < subscribers.Count; i++)
            {
                int count = each + (i < extra ? 1 : 0);
                owned[subscribers[i]][topic] = Enumerable.Range(next, count).ToList();
                next += count;
            }
        }
        return owned.Select(o =>
        {
            var w = new KafkaWriter(256);
            w.WriteInt16(0);
            new ConsumerProtocolAssignment
            {
                AssignedPartitions = o.Value.Select(t => new ConsumerProtocolAssignment.TopicPartition { Topic = t.Key, Partitions = t.Value }).ToList(),
            }.Write(w, 0);
            return new SyncGroupRequest.SyncGroupRequestAssignment { MemberId = o.Key, Assignment = w.ToArray() };
        }).ToList();
    }

    private static List<(string, int)> ReadAssignment(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return [];
        }
        var r = KafkaReader.OverSpan(bytes);
        short version = r.ReadInt16();
        var assignment = new ConsumerProtocolAssignment();
        assignment.Read(ref r, Math.Min(version, ConsumerProtocolAssignment.HighestVersion));
        return assignment.AssignedPartitions.SelectMany(t => t.Partitions.Select(p => (t.Topic, p))).OrderBy(t => t.Topic, StringComparer.Ordinal).ThenBy(t => t.p).ToList();
    }

    private async Task HeartbeatAsync(int generation, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested && !_rebalanceNeeded)
            {
                await Task.Delay(HeartbeatInterval, stop);
                var answer = await _admin.OnCoordinatorAsync<HeartbeatResponse>(Group,
                    new HeartbeatRequest { GroupId = Group, GenerationId = generation, MemberId = MemberId }, r => r.ErrorCode, stop);
                if (answer.ErrorCode is KafkaErrors.RebalanceInProgress or KafkaErrors.IllegalGeneration or KafkaErrors.UnknownMemberId)
                {
                    _rebalanceNeeded = true;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or KafkaException or KafkaConnectionException)
        {
            // Stopped, or the coordinator cannot be reached: a member that misses its session is rebalanced out, and
            // the next commit or rejoin says so.
            _rebalanceNeeded |= !stop.IsCancellationRequested;
        }
    }

    private async Task StopHeartbeatsAsync()
    {
        _rebalanceNeeded = true; // ends the loop at its next turn
        await _heartbeats;
    }

    /// <summary>Leaves the group, so that its partitions go to the other members at once instead of after the session
    /// timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _heartbeats;
        try
        {
            await _client.RetryAsync(c => _admin.OnCoordinatorAsync<LeaveGroupResponse>(Group,
                new LeaveGroupRequest { GroupId = Group, MemberId = MemberId, Members = [] }, r => r.ErrorCode, c), TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is KafkaException or KafkaConnectionException or OperationCanceledException)
        {
            // The session timeout removes it instead.
        }
    }
}
