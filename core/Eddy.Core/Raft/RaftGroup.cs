namespace Eddy.Raft;

/// <summary>
/// One Raft group's state machine, as seen from one member. Pure: inputs are Tick, Step (a
/// message), proposals and Advance (the durability notice); outputs come out of GetReady. It owns no
/// thread, clock, disk or socket, so a simulator can drive it through any schedule of faults.
/// </summary>
public sealed partial class RaftGroup
{
    private const int MaxCommittedPerReady = 1024;

    private readonly RaftOptions options;
    private readonly RaftLog log;
    private readonly Dictionary<int, Progress> progress = new();
    private readonly Dictionary<int, bool> votes = new();
    private readonly long[] quorumScratch = new long[RaftOptions.MaxMembers];
    private readonly Ready ready = new();
    private List<Message> outbox = new();
    private List<ReadState> readStates = new();
    private ulong randomState;

    // Membership: the one at the snapshot, then one per config entry still in the log.
    private Membership baseMembership;
    private readonly List<(long Index, long Term, Membership Membership)> configHistory = new();

    private int vote;
    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTimeout;
    private int leadTransferee;
    private long pendingConfigIndex;
    private bool broadcastPending;
    private SnapshotImage? latestSnapshot;
    private SnapshotImage? snapshotToInstall;
    private bool readyInFlight;
    private HardState lastHardState;

    /// <summary>
    /// A member over <paramref name="storage"/>, which holds the durable entries after the snapshot. A first start
    /// passes empty storage and no <paramref name="persisted"/> state.
    /// </summary>
    public RaftGroup(RaftOptions options, Membership bootstrap, IRaftLogStorage storage, PersistedState? persisted = null)
    {
        options.Validate();
        this.options = options;
        log = new RaftLog(storage);
        Id = options.NodeId;
        randomState = options.RandomSeed ^ ((ulong)Id * 0x9E3779B97F4A7C15UL);
        baseMembership = persisted?.Snapshot?.Membership ?? bootstrap;
        var snap = persisted?.Snapshot;
        latestSnapshot = snap;
        var hard = persisted?.HardState ?? default;
        log.Load(snap?.Index ?? 0, snap?.Term ?? 0, hard.Commit);
        Term = hard.Term;
        vote = hard.Vote;
        lastHardState = new HardState(Term, vote, log.Committed);
        if (log.LastIndex > log.SnapshotIndex)
        {
            var durable = new List<Entry>();
            log.CopyTo(log.FirstIndex, log.LastIndex, int.MaxValue, durable);
            RecordConfigEntries(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(durable));
        }
        ResetElectionTimer();
    }

    public int Id { get; }
    public long Term { get; private set; }
    public Role Role { get; private set; }
    public int Leader { get; private set; }
    public int VotedFor => vote;
    public Membership Membership => configHistory.Count > 0 ? configHistory[^1].Membership : baseMembership;
    public long Committed => log.Committed;

    /// <summary>Whether a membership change is in the log but not yet committed (the next must wait for it).</summary>
    public bool ConfigChangePending => pendingConfigIndex > log.Committed;
    public long Applied => log.Applied;
    public long LastIndex => log.LastIndex;
    public int LeadTransferee => leadTransferee;
    internal RaftLog Log => log;
    internal IReadOnlyDictionary<int, Progress> Progress => progress;

    public void Tick()
    {
        electionElapsed++;
        if (Role == Role.Leader) TickLeader();
        else if (electionElapsed >= randomizedElectionTimeout && Membership.IsVoter(Id)) Campaign(CampaignKind.PreElection);
    }

    /// <summary>Starts an election now (tests and operators); a no-op for a non-voter or a leader.</summary>
    public void Campaign() { if (Role != Role.Leader && Membership.IsVoter(Id)) Campaign(CampaignKind.PreElection); }

    /// <summary>Proposes an entry covering <paramref name="span"/> indices (a record batch of that many records; a
    /// controller command takes one); on success it holds LastIndex - span + 1 through LastIndex.</summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> data, int span = 1)
    {
        Invariant.True(span > 0, "an entry covers at least one index");
        return Append(EntryType.Normal, data, span);
    }

    public ProposeResult ProposeConfigChange(ConfigChange change)
    {
        if (Role != Role.Leader) return ProposeResult.NotLeader;
        // Single-server changes are safe only one at a time, and only once this leader has committed
        // an entry of its own term (otherwise an older leader's uncommitted change may still win).
        if (pendingConfigIndex > log.Committed || log.Term(log.Committed) != Term) return ProposeResult.ConfigChangePending;
        // The leader leaves by transferring leadership first, so it never manages a group it is not in.
        if (!Membership.Allows(change) || change.NodeId == Id) return ProposeResult.InvalidConfigChange;
        return Append(EntryType.ConfigChange, change.Encode(), 1);
    }

    private ProposeResult Append(EntryType type, ReadOnlyMemory<byte> data, int span)
    {
        if (Role != Role.Leader) return ProposeResult.NotLeader;
        if (leadTransferee != 0) return ProposeResult.TransferInProgress;
        if (log.LastIndex - log.Committed >= options.MaxUncommittedEntries) return ProposeResult.Overloaded;
        AppendEntry(type, data, span);
        return ProposeResult.Accepted;
    }

    private void AppendEntry(EntryType type, ReadOnlyMemory<byte> data, int span)
    {
        Invariant.True(Role == Role.Leader, "only a leader appends");
        var entry = new Entry(Term, log.LastIndex + 1, log.LastIndex + span, type, data);
        log.Append(entry);
        if (type == EntryType.ConfigChange)
        {
            pendingConfigIndex = entry.Index;
            RecordConfigEntries([entry]);
        }
        // Sent from GetReady, so a burst of proposals leaves as one append per follower.
        broadcastPending = true;
    }

    private enum CampaignKind : byte { PreElection, Election, Transfer }

    private void Campaign(CampaignKind kind)
    {
        if (options.PreVote && kind == CampaignKind.PreElection) BecomePreCandidate();
        else BecomeCandidate();
        var type = Role == Role.PreCandidate ? MessageType.PreVote : MessageType.Vote;
        long term = Role == Role.PreCandidate ? Term + 1 : Term;
        if (TallyVote(Id, granted: true)) return;
        foreach (int voter in Membership.Voters)
        {
            if (voter == Id) continue;
            Send(new Message
            {
                Type = type, To = voter, Term = term, Index = log.LastIndex, LogTerm = log.LastTerm, Force = kind == CampaignKind.Transfer,
            });
        }
    }

    /// <summary>Records a vote; true when it decided the election (and the role already changed).</summary>
    private bool TallyVote(int from, bool granted)
    {
        if (!Membership.IsVoter(from)) return false;
        votes.TryAdd(from, granted);
        int yes = 0, no = 0;
        foreach (var (_, g) in votes) { if (g) yes++; else no++; }
        var members = Membership;
        if (yes >= members.Quorum)
        {
            if (Role == Role.PreCandidate) Campaign(CampaignKind.Election);
            else BecomeLeader();
            return true;
        }
        if (no > members.Voters.Length - members.Quorum)
        {
            BecomeFollower(Term, 0);
            return true;
        }
        return false;
    }

    private void BecomeFollower(long term, int leader)
    {
        Reset(term);
        Role = Role.Follower;
        Leader = leader;
    }

    private void BecomePreCandidate()
    {
        Invariant.True(Role != Role.Leader, "a leader does not campaign");
        // Pre-vote changes neither term nor vote: a partitioned node cannot inflate terms.
        votes.Clear();
        electionElapsed = 0;
        ResetElectionTimer();
        Role = Role.PreCandidate;
        Leader = 0;
    }

    private void BecomeCandidate()
    {
        Invariant.True(Role != Role.Leader, "a leader does not campaign");
        Reset(Term + 1);
        vote = Id;
        Role = Role.Candidate;
    }

    private void BecomeLeader()
    {
        Invariant.True(Role == Role.Candidate, "only a candidate becomes leader");
        Invariant.True(Membership.IsVoter(Id), "a leader is a voter");
        Reset(Term);
        Role = Role.Leader;
        Leader = Id;
        pendingConfigIndex = configHistory.Count > 0 ? configHistory[^1].Index : 0;
        SyncProgressWithMembership();
        // The no-op: entries of earlier terms commit only under an entry of this term. It bypasses
        // the uncommitted limit, or a full tail inherited from earlier terms could never commit.
        AppendEntry(EntryType.Normal, ReadOnlyMemory<byte>.Empty, 1);
    }

    private void Reset(long term)
    {
        if (term != Term)
        {
            Invariant.True(term > Term, "terms only grow");
            Term = term;
            vote = 0;
        }
        Leader = 0;
        electionElapsed = 0;
        heartbeatElapsed = 0;
        ResetElectionTimer();
        votes.Clear();
        progress.Clear();
        leadTransferee = 0;
        broadcastPending = false;
        ResetReads();
    }

    private void ResetElectionTimer()
    {
        // SplitMix64: the jitter must come from the seed so the simulator can replay it.
        randomState += 0x9E3779B97F4A7C15UL;
        ulong z = randomState;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        randomizedElectionTimeout = options.ElectionTicks + (int)(z % (ulong)options.ElectionTicks);
    }

    private void Send(Message message)
    {
        message.From = Id;
        if (message.Term == 0) message.Term = Term;
        Invariant.True(message.To != Id && message.To > 0, "messages go to another member");
        outbox.Add(message);
    }

    /// <summary>Adds config entries to the history and drops those a truncation removed.</summary>
    private void RecordConfigEntries(ReadOnlySpan<Entry> appended)
    {
        while (configHistory.Count > 0)
        {
            var (index, term, _) = configHistory[^1];
            if (index <= log.LastIndex && log.Term(index) == term) break;
            configHistory.RemoveAt(configHistory.Count - 1);
        }
        long lastRecorded = configHistory.Count > 0 ? configHistory[^1].Index : log.SnapshotIndex;
        foreach (var e in appended)
        {
            if (e.Type != EntryType.ConfigChange || e.Index <= lastRecorded || log.Term(e.Index) != e.Term) continue;
            var change = ConfigChange.Decode(e.Data.Span);
            // Every member sees the same log, so an invalid change is skipped identically everywhere.
            if (!Membership.Allows(change)) continue;
            configHistory.Add((e.Index, e.Term, Membership.Apply(change)));
        }
        if (Role == Role.Leader) SyncProgressWithMembership();
    }

    /// <summary>The membership in force at index (the last one at or before it).</summary>
    private Membership MembershipAt(long index)
    {
        var found = baseMembership;
        foreach (var (i, _, m) in configHistory) { if (i <= index) found = m; }
        return found;
    }
}
