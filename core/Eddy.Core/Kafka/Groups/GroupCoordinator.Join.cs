using Eddy.Errors;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Kafka.Server;

namespace Eddy.Kafka.Groups;

/// <summary>JoinGroup and the rebalance it drives (Kafka's classic protocol, KIP-345 static members, KIP-394 member ids).</summary>
public sealed partial class GroupCoordinator
{
    /// <summary>
    /// JoinGroup. Completes at once for errors and for rejoins that change nothing; otherwise when the rebalance it
    /// joins ends, with the new generation (and, for the leader, every member's metadata).
    /// </summary>
    public ValueTask<JoinGroupResponse> JoinAsync(JoinGroupRequest request, short version, string clientId, string clientHost)
    {
        string groupId = request.GroupId;
        string memberId = request.MemberId;
        if (groupId.Length == 0)
        {
            return Done(JoinError(memberId, KafkaErrors.InvalidGroupId));
        }
        short serving = CheckServing(groupId);
        if (serving != KafkaErrors.None)
        {
            return Done(JoinError(memberId, serving));
        }
        if (request.SessionTimeoutMs < Options.MinSessionTimeout.TotalMilliseconds || request.SessionTimeoutMs > Options.MaxSessionTimeout.TotalMilliseconds)
        {
            return Done(JoinError(memberId, KafkaErrors.InvalidSessionTimeout));
        }
        var join = new JoinParameters(
            request.GroupInstanceId,
            clientId,
            clientHost,
            // v0 has one timeout for both; Kafka's placeholder -1 means the same.
            version >= 1 && request.RebalanceTimeoutMs > 0 ? request.RebalanceTimeoutMs : request.SessionTimeoutMs,
            request.SessionTimeoutMs,
            request.ProtocolType,
            request.Protocols.Select(p => (p.Name, p.Metadata)).ToList(),
            version);
        var group = FindGroup(groupId);
        if (group is null)
        {
            if (memberId.Length > 0)
            {
                return Done(JoinError(memberId, KafkaErrors.UnknownMemberId));
            }
            if (join.ProtocolType.Length == 0 || join.Protocols.Count == 0)
            {
                return Done(JoinError(memberId, KafkaErrors.InconsistentGroupProtocol));
            }
            group = new ClassicGroup(groupId, PartitionFor(groupId));
            _groups[groupId] = group;
        }
        if (!AcceptsJoiningMember(group, memberId.Length == 0 ? group.StaticMemberId(request.GroupInstanceId) ?? "" : memberId))
        {
            return Done(JoinError("", KafkaErrors.GroupMaxSizeReached));
        }
        if (!group.SupportsProtocols(join.ProtocolType, join.Protocols))
        {
            return Done(JoinError(memberId, KafkaErrors.InconsistentGroupProtocol));
        }
        var result = memberId.Length == 0 ? JoinNewMember(group, join) : JoinKnownMember(group, memberId, join);
        if (group.Is(GroupState.PreparingRebalance))
        {
            TryCompleteJoin(group);
        }
        return result;
    }

    /// <summary>What a JoinGroup asks for, once validated.</summary>
    private sealed record JoinParameters(string? GroupInstanceId, string ClientId, string ClientHost, int RebalanceTimeoutMs, int SessionTimeoutMs,
        string ProtocolType, List<(string Name, byte[] Metadata)> Protocols, short Version);

    private static ValueTask<JoinGroupResponse> Done(JoinGroupResponse response) => new(response);

    internal static JoinGroupResponse JoinError(string memberId, short error) => new()
    {
        ErrorCode = error,
        MemberId = memberId,
        GenerationId = -1,
        ProtocolName = null,
        Leader = "",
    };

    private JoinGroupResponse CurrentGeneration(ClassicGroup group, GroupMember member, bool withMembers, bool skipAssignment = false) => new()
    {
        MemberId = member.MemberId,
        GenerationId = group.GenerationId,
        ProtocolType = group.ProtocolType,
        ProtocolName = group.ProtocolName,
        Leader = group.LeaderId ?? "",
        SkipAssignment = skipAssignment,
        Members = withMembers ? group.LeaderMemberList() : [],
    };

    /// <summary>group.max.size: a known member (a static one coming back under a new id included) may always rejoin; a
    /// new one only while there is room.</summary>
    private bool AcceptsJoiningMember(ClassicGroup group, string memberId) => group.State switch
    {
        GroupState.Empty or GroupState.Dead => true,
        GroupState.PreparingRebalance => group.Find(memberId)?.JoinWaiter is not null || group.AwaitingJoinCount < Options.MaxGroupSize,
        _ => group.Has(memberId) || group.Members.Count < Options.MaxGroupSize,
    };

    private ValueTask<JoinGroupResponse> JoinNewMember(ClassicGroup group, JoinParameters join)
    {
        string newMemberId = $"{join.GroupInstanceId ?? join.ClientId}-{Guid.NewGuid()}";
        if (join.GroupInstanceId is { } instanceId)
        {
            return group.StaticMemberId(instanceId) is { } oldMemberId
                ? ReplaceStaticMember(group, group.Get(oldMemberId), newMemberId, join)
                : AddMemberAndRebalance(group, newMemberId, join);
        }
        if (join.Version >= 4)
        {
            // KIP-394: the member learns its id first and joins with it, so a client that times out and retries
            // is recognised instead of leaving a defunct member behind.
            group.PendingMembers[newMemberId] = _shard.Schedule(NowNanos + Millis(join.SessionTimeoutMs), OnPendingMemberExpired, (this, group, newMemberId));
            return Done(JoinError(newMemberId, KafkaErrors.MemberIdRequired));
        }
        return AddMemberAndRebalance(group, newMemberId, join);
    }

    private ValueTask<JoinGroupResponse> JoinKnownMember(ClassicGroup group, string memberId, JoinParameters join)
    {
        if (group.PendingMembers.Remove(memberId, out var pendingTimer))
        {
            pendingTimer.Cancel();
            return AddMemberAndRebalance(group, memberId, join);
        }
        short error = ValidateMember(group, memberId, join.GroupInstanceId);
        if (error != KafkaErrors.None)
        {
            return Done(JoinError(memberId, error));
        }
        var member = group.Get(memberId);
        ScheduleSession(group, member);
        switch (group.State)
        {
            case GroupState.PreparingRebalance:
                return UpdateMemberAndRebalance(group, member, join);
            case GroupState.CompletingRebalance:
                // It already has this generation's JoinGroup answer; it lost it. Send it again unless it changed.
                return member.Matches(join.Protocols)
                    ? Done(CurrentGeneration(group, member, withMembers: group.IsLeader(memberId)))
                    : UpdateMemberAndRebalance(group, member, join);
            case GroupState.Stable:
                // The leader rejoins to make the group reassign (say, after topic metadata changed); a follower
                // that changed nothing just gets the current generation again.
                return group.IsLeader(memberId) || !member.Matches(join.Protocols)
                    ? UpdateMemberAndRebalance(group, member, join)
                    : Done(CurrentGeneration(group, member, withMembers: false));
            default:
                return Done(JoinError(memberId, KafkaErrors.UnknownMemberId));
        }
    }

    private ValueTask<JoinGroupResponse> AddMemberAndRebalance(ClassicGroup group, string memberId, JoinParameters join)
    {
        var member = new GroupMember(memberId, join.GroupInstanceId, join.ClientId, join.ClientHost, join.RebalanceTimeoutMs,
            join.SessionTimeoutMs, join.ProtocolType, join.Protocols);
        var waiter = NewJoinWaiter();
        member.JoinWaiter = waiter;
        if (group.InInitialDelay)
        {
            group.NewMemberAdded = true; // the initial delay extends for each member that arrives during it
        }
        group.Add(member);
        ScheduleSession(group, member);
        MaybePrepareRebalance(group);
        return new ValueTask<JoinGroupResponse>(waiter.Task);
    }

    private ValueTask<JoinGroupResponse> UpdateMemberAndRebalance(ClassicGroup group, GroupMember member, JoinParameters join)
    {
        member.Protocols = join.Protocols;
        member.RebalanceTimeoutMs = join.RebalanceTimeoutMs;
        member.SessionTimeoutMs = join.SessionTimeoutMs;
        // A member that joins again while its earlier JoinGroup waits has given up on that one.
        member.CompleteJoin(JoinError(member.MemberId, KafkaErrors.RebalanceInProgress));
        var waiter = NewJoinWaiter();
        member.JoinWaiter = waiter;
        MaybePrepareRebalance(group);
        return new ValueTask<JoinGroupResponse>(waiter.Task);
    }

    /// <summary>
    /// A static member came back with no member id (a restart): it takes over its instance's place under a new id and
    /// the old id is fenced. A stable group whose protocol choice this does not change carries on without a
    /// rebalance: the member gets the current generation and its assignment back from SyncGroup.
    /// </summary>
    private ValueTask<JoinGroupResponse> ReplaceStaticMember(ClassicGroup group, GroupMember old, string newMemberId, JoinParameters join)
    {
        var member = new GroupMember(newMemberId, join.GroupInstanceId, join.ClientId, join.ClientHost, join.RebalanceTimeoutMs,
            join.SessionTimeoutMs, join.ProtocolType, join.Protocols)
        {
            Assignment = old.Assignment,
        };
        old.SessionTimer.Cancel();
        old.CompleteJoin(JoinError(old.MemberId, KafkaErrors.FencedInstanceId));
        old.CompleteSync(new SyncOutcome(KafkaErrors.FencedInstanceId, []));
        group.Replace(old, member);
        ScheduleSession(group, member);
        var waiter = NewJoinWaiter();
        member.JoinWaiter = waiter;
        switch (group.State)
        {
            case GroupState.Stable when group.SelectProtocol() == group.ProtocolName:
                member.JoinWaiter = null;
                return CompleteStaticRejoinAsync(group, old, member, join.Version);
            case GroupState.Stable or GroupState.CompletingRebalance:
                // Its old id's join answer is gone (fenced), or its protocols change the group's choice: rebalance.
                PrepareRebalance(group);
                break;
        }
        return new ValueTask<JoinGroupResponse>(waiter.Task);
    }

    private async ValueTask<JoinGroupResponse> CompleteStaticRejoinAsync(ClassicGroup group, GroupMember old, GroupMember member, short version)
    {
        int generation = group.GenerationId;
        short error = await StoreGroupAsync(group);
        if (!IsLive(group) || group.Find(member.MemberId) != member)
        {
            return JoinError(member.MemberId, IsLive(group) ? KafkaErrors.FencedInstanceId : KafkaErrors.NotCoordinator);
        }
        if (error != KafkaErrors.None)
        {
            // Not stored: the old id stays the instance's, as a restart would find it.
            member.SessionTimer.Cancel();
            group.Replace(member, old);
            ScheduleSession(group, old);
            return JoinError(member.MemberId, error);
        }
        if (group.Is(GroupState.PreparingRebalance))
        {
            // A rebalance started while the record was written: this member joins it.
            var waiter = NewJoinWaiter();
            member.JoinWaiter = waiter;
            TryCompleteJoin(group);
            return await waiter.Task;
        }
        if (group.GenerationId != generation)
        {
            // One ended meanwhile (the member stayed in it, being static): it takes that generation.
            return CurrentGeneration(group, member, withMembers: group.IsLeader(member.MemberId));
        }
        // KIP-814 (v9): a returning leader learns the members but must not reassign, or the others would not notice.
        bool leader = group.IsLeader(member.MemberId) && version >= 9;
        return CurrentGeneration(group, member, withMembers: leader, skipAssignment: leader);
    }

    private static TaskCompletionSource<JoinGroupResponse> NewJoinWaiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void MaybePrepareRebalance(ClassicGroup group)
    {
        if (group.State is GroupState.Stable or GroupState.CompletingRebalance or GroupState.Empty)
        {
            PrepareRebalance(group);
        }
    }

    /// <summary>
    /// Starts a join phase. From Empty it waits group.initial.rebalance.delay.ms (longer while members keep
    /// arriving) so the first members land in one generation; otherwise it ends when every member has rejoined or
    /// the rebalance timeout (the longest any member asked for) runs out.
    /// </summary>
    private void PrepareRebalance(ClassicGroup group)
    {
        if (group.Is(GroupState.CompletingRebalance))
        {
            ResetAssignments(group, KafkaErrors.RebalanceInProgress);
        }
        group.JoinTimer.Cancel();
        if (group.Is(GroupState.Empty))
        {
            long delayMs = (long)Options.InitialRebalanceDelay.TotalMilliseconds;
            group.InInitialDelay = true;
            group.NewMemberAdded = false;
            group.InitialDelayRemainingMs = Math.Max(group.RebalanceTimeoutMs - delayMs, 0);
            group.JoinTimer = _shard.Schedule(NowNanos + Millis(delayMs), OnInitialDelayExpired, (this, group));
        }
        else
        {
            group.InInitialDelay = false;
            group.JoinTimer = _shard.Schedule(NowNanos + Millis(group.RebalanceTimeoutMs), OnJoinTimeout, (this, group));
        }
        Transition(group, GroupState.PreparingRebalance);
        TryCompleteJoin(group);
    }

    /// <summary>Members waiting in SyncGroup get <paramref name="error"/> and everyone's assignment is cleared.</summary>
    private static void ResetAssignments(ClassicGroup group, short error)
    {
        foreach (var member in group.Members)
        {
            member.Assignment = [];
            member.CompleteSync(new SyncOutcome(error, []));
        }
    }

    private void TryCompleteJoin(ClassicGroup group)
    {
        if (group.Is(GroupState.PreparingRebalance) && !group.InInitialDelay && group.AllMembersJoined)
        {
            CompleteJoin(group);
        }
    }

    private static void OnInitialDelayExpired(object? state)
    {
        var (self, group) = ((GroupCoordinator, ClassicGroup))state!;
        if (!self.IsLive(group) || !group.Is(GroupState.PreparingRebalance) || !group.InInitialDelay)
        {
            return;
        }
        if (group.NewMemberAdded && group.InitialDelayRemainingMs > 0)
        {
            long delayMs = Math.Min((long)self.Options.InitialRebalanceDelay.TotalMilliseconds, group.InitialDelayRemainingMs);
            group.NewMemberAdded = false;
            group.InitialDelayRemainingMs = Math.Max(group.InitialDelayRemainingMs - delayMs, 0);
            group.JoinTimer = self._shard.Schedule(self.NowNanos + Millis(delayMs), OnInitialDelayExpired, state);
            return;
        }
        group.InInitialDelay = false;
        self.CompleteJoin(group);
    }

    private static void OnJoinTimeout(object? state)
    {
        var (self, group) = ((GroupCoordinator, ClassicGroup))state!;
        if (self.IsLive(group) && group.Is(GroupState.PreparingRebalance))
        {
            self.CompleteJoin(group);
        }
    }

    /// <summary>
    /// Ends the join phase: dynamic members that did not rejoin are dropped (static ones stay until their session
    /// ends), the generation moves on, a protocol is chosen, and every waiting JoinGroup is answered.
    /// </summary>
    private void CompleteJoin(ClassicGroup group)
    {
        group.JoinTimer.Cancel();
        group.InInitialDelay = false;
        foreach (var member in group.Members.Where(m => m.JoinWaiter is null && !m.IsStatic).ToList())
        {
            member.SessionTimer.Cancel();
            group.Remove(member);
        }
        if (!group.ElectJoinedLeader() && group.Members.Count > 0)
        {
            // Only static members are left and none rejoined: give them another rebalance timeout, during which
            // they rejoin or their sessions end.
            group.JoinTimer = _shard.Schedule(NowNanos + Millis(group.RebalanceTimeoutMs), OnJoinTimeout, (this, group));
            return;
        }
        group.GenerationId++;
        if (group.Members.Count == 0)
        {
            group.ProtocolName = null;
            Transition(group, GroupState.Empty);
            group.SubscribedTopics = group.ComputeSubscribedTopics();
            _ = StoreGroupInBackgroundAsync(group);
            return;
        }
        group.ProtocolName = group.SelectProtocol();
        group.SubscribedTopics = group.ComputeSubscribedTopics();
        Transition(group, GroupState.CompletingRebalance);
        foreach (var member in group.Members)
        {
            member.CompleteJoin(CurrentGeneration(group, member, withMembers: group.IsLeader(member.MemberId)));
            ScheduleSession(group, member);
        }
    }

    private static long Millis(long ms) => ms * 1_000_000;
}
