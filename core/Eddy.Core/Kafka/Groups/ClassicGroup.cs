using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Runtime;

namespace Eddy.Kafka.Groups;

/// <summary>The states of a classic group, with the names Kafka reports in ListGroups and DescribeGroups.</summary>
public enum GroupState
{
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

/// <summary>
/// One classic group's membership, generation and committed offsets. The rules that move it between states live in
/// <see cref="GroupCoordinator"/>; this class keeps the bookkeeping (members, leader, static ids, protocol vote).
/// Owned by the coordinator's shard.
/// </summary>
internal sealed class ClassicGroup
{
    // Insertion order matters: the first member to join leads, and the leader's member list keeps join order.
    private readonly List<GroupMember> _members = [];

    public ClassicGroup(string groupId, int partition)
    {
        GroupId = groupId;
        Partition = partition;
    }

    public string GroupId { get; }

    /// <summary>The `__consumer_offsets` partition that stores this group.</summary>
    public int Partition { get; }

    public GroupState State { get; set; } = GroupState.Empty;
    public int GenerationId { get; set; }

    /// <summary>Set by the first member ("consumer", "connect", ...); null for a group that only has offsets.</summary>
    public string? ProtocolType { get; set; }

    /// <summary>The protocol chosen for the current generation (null while Empty).</summary>
    public string? ProtocolName { get; set; }
    public string? LeaderId { get; set; }
    public long CurrentStateTimestamp { get; set; } = -1;

    public IReadOnlyList<GroupMember> Members => _members;
    public Dictionary<string, string> StaticMembers { get; } = new(StringComparer.Ordinal);

    /// <summary>Member ids handed out with MEMBER_ID_REQUIRED, waiting for the member's second JoinGroup.</summary>
    public Dictionary<string, TimerHandle> PendingMembers { get; } = new(StringComparer.Ordinal);

    public Dictionary<TopicPartition, CommittedOffset> Offsets { get; } = [];

    /// <summary>Topics the members subscribe to (consumer protocol), or null when unknown: OffsetDelete refuses those.</summary>
    public HashSet<string>? SubscribedTopics { get; set; }

    /// <summary>The rebalance (join phase) timer.</summary>
    public TimerHandle JoinTimer { get; set; }

    /// <summary>While the initial rebalance delay runs, the join phase ends only when its timer fires.</summary>
    public bool InInitialDelay { get; set; }

    /// <summary>Whether a member joined during the current initial delay (which then extends).</summary>
    public bool NewMemberAdded { get; set; }

    /// <summary>What the initial delay may still extend by before the rebalance timeout is spent.</summary>
    public long InitialDelayRemainingMs { get; set; }

    public bool Is(GroupState state) => State == state;

    public bool Has(string memberId) => Find(memberId) is not null;

    public GroupMember? Find(string memberId)
    {
        foreach (var m in _members)
        {
            if (m.MemberId == memberId)
            {
                return m;
            }
        }
        return null;
    }

    public GroupMember Get(string memberId) => Find(memberId) ?? throw new InvalidOperationException($"group {GroupId} has no member {memberId}");

    public string? StaticMemberId(string? groupInstanceId)
        => groupInstanceId is not null && StaticMembers.TryGetValue(groupInstanceId, out var id) ? id : null;

    public bool IsLeader(string memberId) => LeaderId == memberId;

    /// <summary>The longest rebalance timeout any member asked for: how long a join phase may last.</summary>
    public int RebalanceTimeoutMs
    {
        get
        {
            int max = 0;
            foreach (var m in _members)
            {
                max = Math.Max(max, m.RebalanceTimeoutMs);
            }
            return max;
        }
    }

    public int AwaitingJoinCount => _members.Count(m => m.JoinWaiter is not null);

    public bool AllMembersJoined => _members.All(m => m.JoinWaiter is not null) && PendingMembers.Count == 0;

    public void Add(GroupMember member)
    {
        if (_members.Count == 0)
        {
            ProtocolType = member.ProtocolType;
        }
        _members.Add(member);
        if (member.GroupInstanceId is { } instance)
        {
            StaticMembers[instance] = member.MemberId;
        }
        LeaderId ??= member.MemberId;
    }

    public void Remove(GroupMember member)
    {
        _members.Remove(member);
        if (member.GroupInstanceId is { } instance && StaticMembers.TryGetValue(instance, out var id) && id == member.MemberId)
        {
            StaticMembers.Remove(instance);
        }
        if (LeaderId == member.MemberId)
        {
            LeaderId = _members.Count > 0 ? _members[0].MemberId : null;
        }
    }

    /// <summary>Puts <paramref name="replacement"/> (a new member id for the same instance) where <paramref name="old"/> was.</summary>
    public void Replace(GroupMember old, GroupMember replacement)
    {
        int index = _members.IndexOf(old);
        _members[index] = replacement;
        StaticMembers[replacement.GroupInstanceId!] = replacement.MemberId;
        if (LeaderId == old.MemberId)
        {
            LeaderId = replacement.MemberId;
        }
    }

    /// <summary>Makes a member that rejoined the leader when the current leader did not. False when nobody rejoined.</summary>
    public bool ElectJoinedLeader()
    {
        if (LeaderId is { } leader && Find(leader)?.JoinWaiter is not null)
        {
            return true;
        }
        foreach (var m in _members)
        {
            if (m.JoinWaiter is not null)
            {
                LeaderId = m.MemberId;
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether a member offering <paramref name="protocols"/> of <paramref name="protocolType"/> can join: an empty
    /// group takes any non-empty offer; otherwise the type must match and one offered protocol must be one every
    /// member supports.
    /// </summary>
    public bool SupportsProtocols(string protocolType, List<(string Name, byte[] Metadata)> protocols)
    {
        if (_members.Count == 0)
        {
            return protocolType.Length > 0 && protocols.Count > 0;
        }
        if (protocolType != ProtocolType)
        {
            return false;
        }
        var candidates = CandidateProtocols();
        return protocols.Any(p => candidates.Contains(p.Name));
    }

    /// <summary>The protocol of the next generation: each member votes for the first protocol it offers that every
    /// member supports; the most votes win (the first such protocol on a tie).</summary>
    public string SelectProtocol()
    {
        var candidates = CandidateProtocols();
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        string? best = null;
        foreach (var m in _members)
        {
            string vote = m.Protocols.First(p => candidates.Contains(p.Name)).Name;
            int count = votes[vote] = votes.GetValueOrDefault(vote) + 1;
            if (best is null || count > votes[best])
            {
                best = vote;
            }
        }
        return best ?? throw new InvalidOperationException($"group {GroupId} has no members to choose a protocol");
    }

    private HashSet<string> CandidateProtocols()
    {
        HashSet<string>? common = null;
        foreach (var m in _members)
        {
            var names = m.Protocols.Select(p => p.Name);
            if (common is null)
            {
                common = new HashSet<string>(names, StringComparer.Ordinal);
            }
            else
            {
                common.IntersectWith(names);
            }
        }
        return common ?? [];
    }

    /// <summary>Every member's id, instance id and metadata for the chosen protocol: what the leader assigns from.</summary>
    public List<JoinGroupResponse.JoinGroupResponseMember> LeaderMemberList()
    {
        var list = new List<JoinGroupResponse.JoinGroupResponseMember>(_members.Count);
        foreach (var m in _members)
        {
            list.Add(new JoinGroupResponse.JoinGroupResponseMember
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.GroupInstanceId,
                Metadata = m.MetadataFor(ProtocolName!) ?? [],
            });
        }
        return list;
    }

    /// <summary>The topics named in the members' consumer-protocol subscriptions, or null if any cannot be read.</summary>
    public HashSet<string>? ComputeSubscribedTopics()
    {
        if (ProtocolType != "consumer" || ProtocolName is null)
        {
            return ProtocolType == "consumer" && _members.Count == 0 ? [] : null;
        }
        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in _members)
        {
            var metadata = m.MetadataFor(ProtocolName);
            if (metadata is null || metadata.Length < 2)
            {
                return null;
            }
            try
            {
                var r = KafkaReader.OverSpan(metadata);
                short version = r.ReadInt16();
                var subscription = new ConsumerProtocolSubscription();
                // Newer versions only add fields at the end: read them as the newest we know, as Kafka does.
                subscription.Read(ref r, Math.Min(version, ConsumerProtocolSubscription.HighestVersion));
                topics.UnionWith(subscription.Topics);
            }
            catch (KafkaProtocolException)
            {
                return null;
            }
        }
        return topics;
    }

    /// <summary>The group as a group metadata record stores it, with <paramref name="assignments"/> in place of the
    /// members' current ones when given (the leader's SyncGroup stores them before they take effect).</summary>
    public GroupSnapshot Snapshot(Dictionary<string, byte[]>? assignments = null) => new(
        ProtocolType ?? "", GenerationId, ProtocolName, LeaderId, CurrentStateTimestamp,
        _members.Select(m => new MemberSnapshot(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost, m.RebalanceTimeoutMs,
            m.SessionTimeoutMs, ProtocolName is null ? [] : m.MetadataFor(ProtocolName) ?? [],
            assignments is null ? m.Assignment : assignments.GetValueOrDefault(m.MemberId) ?? [])).ToList());

    public static string StateName(GroupState state) => state switch
    {
        GroupState.Empty => "Empty",
        GroupState.PreparingRebalance => "PreparingRebalance",
        GroupState.CompletingRebalance => "CompletingRebalance",
        GroupState.Stable => "Stable",
        _ => "Dead",
    };
}
