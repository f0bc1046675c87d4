namespace Eddy.Raft.Driver;

// The leader's view of its followers: which are in sync (Kafka's ISR), and handing leadership to one of them.
public sealed partial class PartitionRaft
{
    // Per follower, as Kafka keeps per replica: when it was last caught up, and the leader's log end and time at its
    // previous acknowledgement. Reset when this replica starts leading.
    private readonly Dictionary<int, FollowerState> _followers = new();
    private long _ledTerm;
    private bool _declinesLeadership;

    /// <summary>
    /// The voters in sync now: this leader, and each follower caught up with the leader's log end within
    /// <paramref name="maxLag"/> (Kafka's replica.lag.time.max.ms). A follower is caught up when it acknowledges the
    /// leader's log end, or when it acknowledges what the leader's log end was at its previous acknowledgement (a follower
    /// keeping pace with a leader that never stops appending), as Kafka judges a follower's fetches. A new leader counts
    /// every follower as caught up when it took over. Empty when this replica does not lead. Leader's shard.
    /// </summary>
    public int[] InSyncReplicas(long nowNanos, TimeSpan maxLag)
    {
        var inSync = new int[InSyncCount(nowNanos, maxLag)];
        int n = 0;
        foreach (int voter in _raft.Membership.Voters)
        {
            if (n < inSync.Length && IsInSync(voter, nowNanos - maxLag.Ticks * 100))
            {
                inSync[n++] = voter;
            }
        }
        Array.Sort(inSync);
        return inSync;
    }

    /// <summary>How many <see cref="InSyncReplicas"/> there are, without allocating (every acks=all produce asks).</summary>
    public int InSyncCount(long nowNanos, TimeSpan maxLag)
    {
        if (Failure is not null || _raft.Role != Role.Leader)
        {
            return 0;
        }
        StartLeading(nowNanos);
        int count = 0;
        foreach (int voter in _raft.Membership.Voters)
        {
            count += IsInSync(voter, nowNanos - maxLag.Ticks * 100) ? 1 : 0;
        }
        return count;
    }

    private bool IsInSync(int voter, long oldestNanos)
        => voter == _raft.Id || (_followers.TryGetValue(voter, out var follower) && follower.CaughtUpNanos >= oldestNanos);

    /// <summary>An acknowledgement (or heartbeat answer) from <paramref name="from"/>, after the core took it.</summary>
    private void NoteAcknowledgement(int from)
    {
        if (_raft.Role != Role.Leader || !_raft.Progress.TryGetValue(from, out var progress))
        {
            return;
        }
        long now = Runtime.Shard.Current!.Clock.NowNanos;
        StartLeading(now);
        var follower = (_followers.TryGetValue(from, out var known) ? known : new FollowerState(now, now, 0, 0)) with { HeardNanos = now };
        long end = _raft.LastIndex;
        if (progress.Match >= end)
        {
            follower = follower with { CaughtUpNanos = now };
        }
        else if (progress.Match >= follower.PreviousEnd)
        {
            follower = follower with { CaughtUpNanos = Math.Max(follower.CaughtUpNanos, follower.PreviousNanos) };
        }
        _followers[from] = follower with { PreviousNanos = now, PreviousEnd = end };
    }

    private void StartLeading(long nowNanos)
    {
        if (_ledTerm == _raft.Term)
        {
            return;
        }
        _ledTerm = _raft.Term;
        _followers.Clear();
        foreach (int voter in _raft.Membership.Voters)
        {
            _followers[voter] = new FollowerState(nowNanos, nowNanos, _raft.LastIndex, 0);
        }
    }

    /// <summary>
    /// Hands leadership to <paramref name="target"/>, or to the most caught-up other voter when it is 0 (a node that is
    /// stopping), which campaigns as soon as it holds the whole log; proposals are refused meanwhile, so clients go to
    /// the new leader. False when this replica does not lead, or the target is no other voter.
    /// </summary>
    public bool HandOffLeadership(int target = 0)
    {
        if (Failure is not null || _raft.Role != Role.Leader || target == _raft.Id || (target != 0 && !_raft.Membership.IsVoter(target)))
        {
            return false;
        }
        long best = -1;
        foreach (int voter in _raft.Membership.Voters)
        {
            if (target == 0 && voter != _raft.Id && _raft.Progress.TryGetValue(voter, out var progress) && progress.Match > best)
            {
                (target, best) = (voter, progress.Match);
            }
        }
        if (target == 0)
        {
            return false;
        }
        bool started = _raft.TransferLeadership(target) == ProposeResult.Accepted;
        Kick();
        return started;
    }

    /// <summary>From now on this replica takes no leadership handed to it (its node is stopping, or serves no Kafka
    /// clients): a peer giving a partition back to its preferred replica would otherwise hand it to a replica about to
    /// go, or one no client can reach.</summary>
    public void DeclineLeadership() => _declinesLeadership = true;

    /// <summary>Takes leadership handed to it again (its node serves Kafka clients again).</summary>
    public void AcceptLeadership() => _declinesLeadership = false;

    public bool DeclinesLeadership => _declinesLeadership;

    /// <summary>Whether <paramref name="voter"/> answered this leader within <paramref name="within"/> and holds its whole
    /// log now: a replica leadership can be handed to without a pause.</summary>
    public bool IsCaughtUpNow(int voter, long nowNanos, TimeSpan within)
        => _raft.Role == Role.Leader && _followers.TryGetValue(voter, out var follower) && follower.HeardNanos >= nowNanos - within.Ticks * 100
            && _raft.Progress.TryGetValue(voter, out var progress) && progress.Match >= _raft.LastIndex;

    /// <summary>Whether <paramref name="member"/> (a learner, typically) answered this leader within
    /// <paramref name="within"/> and holds everything committed: it keeps pace, so it may vote without slowing commits.</summary>
    public bool HoldsCommitted(int member, long nowNanos, TimeSpan within)
        => _raft.Role == Role.Leader && _followers.TryGetValue(member, out var follower) && follower.HeardNanos >= nowNanos - within.Ticks * 100
            && _raft.Progress.TryGetValue(member, out var progress) && progress.Match >= _raft.Committed;

    /// <summary>Whether this replica leads and its group's last membership change is committed: the next may be proposed.</summary>
    public bool MembershipSettled => Failure is null && _raft.Role == Role.Leader && !_raft.ConfigChangePending;

    private readonly record struct FollowerState(long CaughtUpNanos, long PreviousNanos, long PreviousEnd, long HeardNanos);
}
