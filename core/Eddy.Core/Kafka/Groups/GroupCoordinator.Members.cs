using Eddy.Errors;
using Eddy.Kafka.Server;

namespace Eddy.Kafka.Groups;

/// <summary>One member leaving a group (LeaveGroup v3+ names several), and what happened to it.</summary>
public readonly record struct LeavingMember(string MemberId, string? GroupInstanceId, short ErrorCode = 0);

/// <summary>SyncGroup, Heartbeat, LeaveGroup and session expiry.</summary>
public sealed partial class GroupCoordinator
{
    /// <summary>
    /// SyncGroup. A follower waits for the leader's assignment; the leader's assignment is stored with the group,
    /// then every waiting member gets its share and the group is Stable.
    /// </summary>
    public ValueTask<SyncOutcome> SyncAsync(string groupId, int generationId, string memberId, string? groupInstanceId,
        string? protocolType, string? protocolName, IReadOnlyList<(string MemberId, byte[] Assignment)> assignments)
    {
        short error = groupId.Length == 0 ? KafkaErrors.InvalidGroupId : CheckServing(groupId);
        var group = error == KafkaErrors.None ? FindGroup(groupId) : null;
        if (error == KafkaErrors.None)
        {
            error = group is null ? KafkaErrors.UnknownMemberId : ValidateMember(group, memberId, groupInstanceId, generationId);
        }
        if (error == KafkaErrors.None
            && ((protocolType is not null && protocolType != group!.ProtocolType) || (protocolName is not null && protocolName != group!.ProtocolName)))
        {
            error = KafkaErrors.InconsistentGroupProtocol;
        }
        if (error != KafkaErrors.None)
        {
            return new ValueTask<SyncOutcome>(new SyncOutcome(error, []));
        }
        var member = group!.Get(memberId);
        switch (group.State)
        {
            case GroupState.PreparingRebalance:
                return new ValueTask<SyncOutcome>(new SyncOutcome(KafkaErrors.RebalanceInProgress, []));
            case GroupState.Stable:
                ScheduleSession(group, member);
                return new ValueTask<SyncOutcome>(new SyncOutcome(KafkaErrors.None, member.Assignment, group.ProtocolType, group.ProtocolName));
            case GroupState.CompletingRebalance:
                ScheduleSession(group, member);
                member.CompleteSync(new SyncOutcome(KafkaErrors.RebalanceInProgress, [])); // a retry replaces the earlier wait
                var waiter = new TaskCompletionSource<SyncOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
                member.SyncWaiter = waiter;
                if (group.IsLeader(memberId))
                {
                    var byMember = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                    foreach (var (id, assignment) in assignments)
                    {
                        byMember[id] = assignment;
                    }
                    _ = StoreAssignmentAsync(group, group.GenerationId, byMember);
                }
                return new ValueTask<SyncOutcome>(waiter.Task);
            default:
                return new ValueTask<SyncOutcome>(new SyncOutcome(KafkaErrors.UnknownMemberId, []));
        }
    }

    /// <summary>Stores the leader's assignment with the group; once durable (and if nothing changed meanwhile) it takes effect.</summary>
    private async Task StoreAssignmentAsync(ClassicGroup group, int generation, Dictionary<string, byte[]> assignments)
    {
        short error = await StoreGroupAsync(group, assignments);
        if (!IsLive(group) || !group.Is(GroupState.CompletingRebalance) || group.GenerationId != generation)
        {
            return; // a rebalance or an unload already answered the waiting members
        }
        if (error != KafkaErrors.None)
        {
            ResetAssignments(group, error);
            MaybePrepareRebalance(group);
            return;
        }
        foreach (var member in group.Members)
        {
            // A member the leader left out gets an empty assignment, as in Kafka.
            member.Assignment = assignments.GetValueOrDefault(member.MemberId) ?? [];
            member.CompleteSync(new SyncOutcome(KafkaErrors.None, member.Assignment, group.ProtocolType, group.ProtocolName));
        }
        Transition(group, GroupState.Stable);
    }

    /// <summary>Heartbeat: keeps the session alive; REBALANCE_IN_PROGRESS tells the member to rejoin.</summary>
    public short Heartbeat(string groupId, int generationId, string memberId, string? groupInstanceId)
    {
        short error = groupId.Length == 0 ? KafkaErrors.InvalidGroupId : CheckServing(groupId);
        if (error != KafkaErrors.None)
        {
            return error;
        }
        var group = FindGroup(groupId);
        if (group is null)
        {
            return KafkaErrors.UnknownMemberId;
        }
        error = ValidateMember(group, memberId, groupInstanceId, generationId);
        if (error != KafkaErrors.None)
        {
            return error;
        }
        if (group.Is(GroupState.Empty))
        {
            return KafkaErrors.UnknownMemberId;
        }
        ScheduleSession(group, group.Get(memberId));
        return group.Is(GroupState.PreparingRebalance) ? KafkaErrors.RebalanceInProgress : KafkaErrors.None;
    }

    /// <summary>
    /// LeaveGroup: each member is removed (an empty member id with an instance id removes that static member, an
    /// admin's way to end its session early) and the group rebalances. Returns the top-level error and one result
    /// per member.
    /// </summary>
    public (short ErrorCode, List<LeavingMember> Members) Leave(string groupId, IReadOnlyList<LeavingMember> leaving)
    {
        short error = groupId.Length == 0 ? KafkaErrors.InvalidGroupId : CheckServing(groupId);
        if (error != KafkaErrors.None)
        {
            return (error, []);
        }
        var group = FindGroup(groupId);
        var results = new List<LeavingMember>(leaving.Count);
        foreach (var m in leaving)
        {
            results.Add(m with { ErrorCode = group is null ? KafkaErrors.UnknownMemberId : LeaveOne(group, m) });
        }
        return (KafkaErrors.None, results);
    }

    private short LeaveOne(ClassicGroup group, LeavingMember leaving)
    {
        if (leaving.MemberId.Length == 0)
        {
            if (group.StaticMemberId(leaving.GroupInstanceId) is not { } staticId)
            {
                return KafkaErrors.UnknownMemberId;
            }
            RemoveMemberAndUpdateGroup(group, group.Get(staticId));
            return KafkaErrors.None;
        }
        if (group.PendingMembers.Remove(leaving.MemberId, out var pending))
        {
            pending.Cancel();
            TryCompleteJoin(group);
            return KafkaErrors.None;
        }
        short error = ValidateMember(group, leaving.MemberId, leaving.GroupInstanceId);
        if (error == KafkaErrors.None)
        {
            RemoveMemberAndUpdateGroup(group, group.Get(leaving.MemberId));
        }
        return error;
    }

    /// <summary>
    /// Kafka's member check: an instance id must belong to this member id (another id: FENCED_INSTANCE_ID, the
    /// instance is the other one's now), the member must exist (UNKNOWN_MEMBER_ID), and a given generation must be
    /// the group's (ILLEGAL_GENERATION).
    /// </summary>
    private static short ValidateMember(ClassicGroup group, string memberId, string? groupInstanceId, int? generationId = null)
    {
        if (groupInstanceId is not null)
        {
            if (group.StaticMemberId(groupInstanceId) is not { } current)
            {
                return KafkaErrors.UnknownMemberId;
            }
            if (current != memberId)
            {
                return KafkaErrors.FencedInstanceId;
            }
        }
        else if (!group.Has(memberId))
        {
            return KafkaErrors.UnknownMemberId;
        }
        return generationId is { } generation && generation != group.GenerationId ? KafkaErrors.IllegalGeneration : KafkaErrors.None;
    }

    /// <summary>Removes a member (left, expired or fenced out) and lets the group react: rebalance, or finish the join phase.</summary>
    private void RemoveMemberAndUpdateGroup(ClassicGroup group, GroupMember member)
    {
        member.SessionTimer.Cancel();
        member.CompleteJoin(JoinError("", KafkaErrors.UnknownMemberId));
        member.CompleteSync(new SyncOutcome(KafkaErrors.UnknownMemberId, []));
        group.Remove(member);
        switch (group.State)
        {
            case GroupState.Stable or GroupState.CompletingRebalance:
                MaybePrepareRebalance(group);
                break;
            case GroupState.PreparingRebalance:
                TryCompleteJoin(group);
                break;
        }
    }

    /// <summary>(Re)starts a member's session: unless something renews it, the member is removed when it runs out.</summary>
    private void ScheduleSession(ClassicGroup group, GroupMember member)
    {
        member.SessionTimer.Cancel();
        member.SessionTimer = _shard.Schedule(NowNanos + Millis(member.SessionTimeoutMs), OnSessionExpired, (this, group, member));
    }

    private static void OnSessionExpired(object? state)
    {
        var (self, group, member) = ((GroupCoordinator, ClassicGroup, GroupMember))state!;
        if (!self.IsLive(group) || group.Find(member.MemberId) != member)
        {
            return;
        }
        if (member.IsAwaiting)
        {
            // Waiting in JoinGroup or SyncGroup: alive by definition; the rebalance timeout bounds the wait.
            self.ScheduleSession(group, member);
            return;
        }
        self.RemoveMemberAndUpdateGroup(group, member);
    }

    private static void OnPendingMemberExpired(object? state)
    {
        var (self, group, memberId) = ((GroupCoordinator, ClassicGroup, string))state!;
        if (self.IsLive(group) && group.PendingMembers.Remove(memberId))
        {
            // The group might have been waiting for this member's second JoinGroup only.
            self.TryCompleteJoin(group);
        }
    }
}
