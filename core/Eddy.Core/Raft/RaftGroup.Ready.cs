namespace Eddy.Raft;

public sealed partial class RaftGroup
{
    /// <summary>Whether GetReady has anything for the driver.</summary>
    public bool HasReady =>
        !readyInFlight && (
            snapshotToInstall is not null
            || log.Stable < log.LastIndex
            || outbox.Count > 0
            || readStates.Count > 0
            || broadcastPending
            || readHeartbeatPending
            || CurrentHardState() != lastHardState
            || (snapshotToInstall is null && log.Applied < ApplyLimit()));

    private long ApplyLimit() => Math.Min(log.Committed, log.Stable);

    private HardState CurrentHardState() =>
        new(Term, options.Bug == PlantedBug.ForgetVote ? 0 : vote, log.Committed);

    /// <summary>
    /// The next batch of work. Exactly one is out at a time: call Advance when it is done. Steps and
    /// ticks may continue meanwhile; what they produce goes into the next batch.
    /// </summary>
    public Ready GetReady()
    {
        Invariant.True(!readyInFlight, "GetReady called again before Advance");
        if (Role == Role.Leader)
        {
            if (broadcastPending) BroadcastAppend();
            if (readHeartbeatPending) BroadcastHeartbeat();
        }
        broadcastPending = false;
        readHeartbeatPending = false;

        ready.Clear();
        ready.Snapshot = snapshotToInstall;
        if (log.Stable < log.LastIndex)
        {
            log.CopyTo(log.Stable + 1, log.LastIndex, int.MaxValue, ready.Entries);
            ready.PersistIndex = log.LastIndex;
            ready.PersistTerm = log.LastTerm;
        }
        var hardState = CurrentHardState();
        if (hardState != lastHardState)
        {
            ready.HasHardState = true;
            ready.HardState = hardState;
        }
        // Swap rather than copy: the group fills the other list while the driver works on this one.
        (outbox, ready.Messages) = (ready.Messages, outbox);
        (readStates, ready.ReadStates) = (ready.ReadStates, readStates);
        if (snapshotToInstall is null && log.Applied < ApplyLimit())
        {
            log.CopyTo(log.Applied + 1, ApplyLimit(), MaxCommittedPerReady, ready.CommittedEntries);
        }
        ready.Role = Role;
        ready.Leader = Leader;
        ready.Term = Term;
        readyInFlight = true;
        return ready;
    }

    /// <summary>
    /// Moves the messages waiting for the next Ready that depend on nothing still to be made durable into
    /// <paramref name="into"/>, for the driver to send now rather than after the disk work of the Ready in flight:
    /// heartbeats, their answers and the leader's appends (those of proposals since the last Ready made now), once this
    /// term and vote are durable (a leader counts itself only through its durable entries, so its followers may write
    /// an entry before it does). Acknowledgements of
    /// entries and votes always wait for their Ready. <paramref name="sendNow"/> may keep any of these back (an append
    /// whose batches must be read from storage first); the rest keep their order.
    /// </summary>
    public void TakeMessagesToSendNow(Func<Message, bool> sendNow, List<Message> into)
    {
        if (Term != lastHardState.Term || vote != lastHardState.Vote)
        {
            return;
        }
        if (Role == Role.Leader && broadcastPending)
        {
            // New proposals' appends, made now rather than at the next GetReady.
            BroadcastAppend();
            broadcastPending = false;
        }
        int kept = 0;
        for (int i = 0; i < outbox.Count; i++)
        {
            var message = outbox[i];
            bool free = message.Type is MessageType.Heartbeat or MessageType.HeartbeatResponse
                || (message.Type == MessageType.Append && Role == Role.Leader);
            if (free && sendNow(message))
            {
                into.Add(message);
            }
            else
            {
                outbox[kept++] = message;
            }
        }
        outbox.RemoveRange(kept, outbox.Count - kept);
    }

    /// <summary>
    /// The durability notice: everything in the last Ready is on disk, its messages are sent and its
    /// committed entries applied. A leader may commit more now that its own copy counts.
    /// </summary>
    public void Advance()
    {
        Invariant.True(readyInFlight, "Advance without a Ready");
        readyInFlight = false;
        if (ready.Snapshot is not null)
        {
            if (ReferenceEquals(ready.Snapshot, snapshotToInstall)) snapshotToInstall = null;
            if (ready.Snapshot.Index == log.SnapshotIndex) log.SnapshotApplied(ready.Snapshot.Index);
        }
        if (ready.PersistIndex > 0) log.StableTo(ready.PersistIndex, ready.PersistTerm);
        if (ready.HasHardState) lastHardState = ready.HardState;
        if (ready.CommittedEntries.Count > 0)
        {
            long appliedThrough = ready.CommittedEntries[^1].LastIndex;
            // A snapshot that arrived meanwhile already moved past these entries.
            if (appliedThrough > log.Applied) log.AppliedTo(appliedThrough);
        }
        ready.Messages.Clear();
        if (Role == Role.Leader) MaybeCommit();
    }

    /// <summary>
    /// The application captured its state through index (at most Applied) in data: drop the log
    /// prefix. Lagging followers will be sent this snapshot.
    /// </summary>
    public SnapshotImage? Compact(long index, byte[] data)
    {
        Invariant.True(index <= log.Applied, "snapshot beyond the applied state");
        if (index <= log.SnapshotIndex) return null;
        var image = new SnapshotImage(index, log.Term(index), MembershipAt(index), data);
        baseMembership = image.Membership;
        configHistory.RemoveAll(c => c.Index <= index);
        log.CompactTo(index);
        latestSnapshot = image;
        return image;
    }
}
