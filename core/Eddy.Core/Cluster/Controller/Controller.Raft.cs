using Eddy.Observability;
using Eddy.Raft;
using Eddy.Rpc;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>The Raft driver of the controller group: the clock, the Ready loop (store, send, apply) and incoming traffic.</summary>
public sealed partial class Controller
{
    private readonly List<NodeEnvelope> _envelopes = new();
    private EnvelopeBatcher _batcher = null!;
    private TimerHandle _tick;
    private Task? _pumping;
    private bool _stopped;
    private bool _failed;
    private long _applied;
    private long _snapshotIndex;
    private long _clusterIdProposedInTerm;
    private long _replayTarget;
    private readonly TaskCompletionSource _replayed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Told, on shard 0, each time commands were applied: the view after them and the last index applied.</summary>
    internal Action<ClusterView, long>? Applied { get; set; }

    /// <summary>Told, on shard 0, each time the cluster's config changed: the view with the new config.</summary>
    internal Action<ClusterView>? ConfigChanged { get; set; }

    /// <summary>The controller group's current term as this node knows it. Shard 0.</summary>
    public long Term => _raft.Term;

    /// <summary>The last log index applied here. Shard 0.</summary>
    public long AppliedIndex => _applied;

    /// <summary>Completes once this node has applied what its own log held as committed when it started: the state it
    /// had before it stopped, without waiting for a leader. Called from outside the shards.</summary>
    public Task WaitReplayedAsync() => _replayed.Task;

    private long _startedNanos;

    private async ValueTask StartOnShardAsync()
    {
        _startedNanos = Runtime.Shard.Current!.Clock.NowNanos;
        if (_store.NodeId == 0 || _store.BootstrapVoters is null)
        {
            await _store.PutIdentityAsync(_identity.NodeId, _identity.Voters);
        }
        var persisted = _store.Load();
        if (ClusterIdIn(persisted, _store.Log) is { } known)
        {
            // Said in hellos from the first message on: a member that says no cluster is taken for one that lost its data.
            _rpcOptions.ClusterId = known;
        }
        var raftOptions = new RaftOptions
        {
            NodeId = _identity.NodeId,
            ElectionTicks = _options.ElectionTicks,
            HeartbeatTicks = _options.HeartbeatTicks,
            RandomSeed = (ulong)Environment.TickCount64 ^ (ulong)Environment.ProcessId,
        };
        _raft = new RaftGroup(raftOptions, new Membership(_identity.Voters), _store.Log, persisted);
        _members = _raft.Membership;
        if (persisted.Snapshot is { } snapshot)
        {
            Publish(ClusterView.Decode(snapshot.Data));
            _applied = _snapshotIndex = snapshot.Index;
        }
        _replayTarget = Math.Max(persisted.HardState.Commit, _applied);
        if (_applied >= _replayTarget)
        {
            NoteConfigAtStart();
            _replayed.TrySetResult();
        }
        _batcher = new EnvelopeBatcher(_identity.NodeId);
        _links = new NodeLinks(_rpcOptions, AddressOf);
        // From here on there is a group to hand Raft traffic to (what peers sent before is lost, and Raft sends it
        // again); set before the first campaign, or the answers to it would be dropped.
        _listener.Target = this;
        Log.Info(Subsystem, $"node {NodeId}, RPC advertised as {AdvertisedRpcHost}:{AdvertisedRpcPort}; controller voters [{string.Join(',', _identity.Voters)}], " +
            $"term {persisted.HardState.Term}, {_store.Log.Count} log entries after snapshot {persisted.Snapshot?.Index ?? 0}");
        // The first voter starts an election at once, so a new cluster (or a lone node) has a leader within a round
        // trip of a majority being up, instead of after an election timeout; the others wait theirs.
        if (_identity.Voters[0] == NodeId)
        {
            _raft.Campaign();
        }
        ScheduleTick();
        Pump();
    }

    /// <summary>The cluster id a restarting node's own state holds: its snapshot's, or the first committed CreateCluster.</summary>
    private static string? ClusterIdIn(PersistedState persisted, MemoryLogStorage log)
    {
        if (persisted.Snapshot is { } snapshot)
        {
            return ClusterView.Decode(snapshot.Data).ClusterId is { Length: > 0 } id ? id : null;
        }
        var entries = new List<Entry>();
        log.Read(log.SnapshotIndex + 1, log.LastIndex, int.MaxValue, entries);
        foreach (var entry in entries)
        {
            if (entry.Index > persisted.HardState.Commit)
            {
                break;
            }
            if (entry.Type == EntryType.Normal && !entry.Data.IsEmpty && entry.Data.Span[0] == (byte)ControllerCommandType.CreateCluster)
            {
                try
                {
                    return ControllerCommand.Decode(entry.Data.Span).ClusterId;
                }
                catch (RpcFormatException)
                {
                    return null;
                }
            }
        }
        return null;
    }

    private ValueTask StopOnShardAsync()
    {
        var shard = Runtime.Shard.Current!;
        Log.Info(Subsystem, $"stopping: sent {_links.FramesSent} RPC frames to other nodes in {(shard.Clock.NowNanos - _startedNanos) / 1e9:0.0} s");
        _stopped = true;
        _tick.Cancel();
        _links.Dispose();
        FailWaiters(new ControllerUnavailableException("the node is stopping"));
        return _pumping is { IsCompleted: false } pumping ? new ValueTask(pumping) : ValueTask.CompletedTask;
    }

    /// <summary>The tick goes behind the work already queued on the shard (ShardReplicas' clock does the same): a tick
    /// ahead of peers' messages received but not yet handled would count a leader that did send as silent.</summary>
    private void ScheduleTick()
    {
        var shard = Runtime.Shard.Current!;
        _tick = shard.Schedule(shard.Clock.NowNanos + _options.TickInterval.Ticks * 100,
            static state => Runtime.Shard.Current!.Post(static s => ((Controller)s!).OnTick(), state), this);
    }

    private void OnTick()
    {
        if (_stopped || _failed)
        {
            return;
        }
        _raft.Tick();
        ProposeClusterIdIfLeader();
        ReconcileMembership();
        RemoveDrainedNodes();
        Pump();
        ScheduleTick();
    }

    /// <summary>A new cluster's first leader names it with a new UUID. Once per term until applied.</summary>
    private void ProposeClusterIdIfLeader()
    {
        if (_raft.Role != Role.Leader || _view.ClusterId.Length != 0 || _clusterIdProposedInTerm == _raft.Term)
        {
            return;
        }
        string id = Guid.NewGuid().ToString("D");
        if (_raft.Propose(ControllerCommand.CreateCluster(id).Encode()) == ProposeResult.Accepted)
        {
            _clusterIdProposedInTerm = _raft.Term;
        }
    }

    /// <summary>Where Raft traffic for partition groups goes (the node's replicas, on their shards); dropped until set.</summary>
    internal Action<List<GroupMessage>>? PartitionTraffic { get; set; }

    /// <summary>Raft traffic from another node, on the shard that read it: the controller's messages are handed to shard
    /// 0, the partitions' to <see cref="PartitionTraffic"/>.</summary>
    public void OnEnvelope(NodeEnvelope envelope)
    {
        var messages = new List<GroupMessage>(envelope.RaftMessageCount);
        envelope.Unpack(messages);
        List<GroupMessage>? partitions = null;
        for (int i = messages.Count - 1; i >= 0; i--)
        {
            if (messages[i].Group != Group)
            {
                (partitions ??= new List<GroupMessage>()).Add(messages[i]);
                messages.RemoveAt(i);
            }
        }
        if (partitions is not null)
        {
            partitions.Reverse(); // in the order the peer sent them
            PartitionTraffic?.Invoke(partitions);
        }
        if (messages.Count == 0)
        {
            return;
        }
        if (Runtime.Shard.Current!.Id != Shard)
        {
            _ = Smp.SubmitTo(Shard, () => Step(messages)).AsTask();
            return;
        }
        Step(messages);
    }

    private void Step(List<GroupMessage> messages)
    {
        if (_stopped || _failed)
        {
            return;
        }
        NoteHeard(messages);
        try
        {
            foreach (var (_, message) in messages)
            {
                _raft.Step(message);
            }
        }
        catch (RaftInvariantException e)
        {
            // A broken invariant is a bug: stop the controller here rather than go on from a state that cannot be trusted.
            FailStop(e.Message);
            return;
        }
        Pump();
    }

    private void Pump()
    {
        if (_pumping is { IsCompleted: false } || _stopped || _failed || !_raft.HasReady)
        {
            return;
        }
        _pumping = PumpAsync();
    }

    /// <summary>Handles Readies until there are none: store (one fdatasync), then send, apply and advance, in the order
    /// docs/raft.md gives. A storage failure stops the controller on this node (fail-stop): nothing more leaves it that
    /// would promise durability.</summary>
    private async Task PumpAsync()
    {
        try
        {
            while (!_stopped && _raft.HasReady)
            {
                var ready = _raft.GetReady();
                if (ready.Snapshot is { } image)
                {
                    await _store.SaveSnapshotAsync(image, replacesLog: true);
                }
                if (ready.Entries.Count > 0 || ready.HasHardState)
                {
                    await _store.SaveAsync(ready.Entries, ready.HasHardState ? ready.HardState : null);
                }
                Send(ready.Messages);
                if (ready.Snapshot is { } installed)
                {
                    InstallSnapshot(installed);
                }
                foreach (var entry in ready.CommittedEntries)
                {
                    Apply(entry);
                }
                if (ready.CommittedEntries.Count > 0 || ready.Snapshot is not null)
                {
                    Applied?.Invoke(_view, _applied);
                    if (_applied >= _replayTarget)
                    {
                        NoteConfigAtStart();
                        _replayed.TrySetResult();
                    }
                }
                NoteLeadership(ready.Leader);
                _raft.Advance();
                _members = _raft.Membership;
                await CompactIfDueAsync();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            FailStop(e.Message);
        }
    }

    /// <summary>Stops the controller on this node for good: nothing more leaves it that would promise durability, and
    /// everyone waiting on it hears why.</summary>
    private void FailStop(string why)
    {
        _failed = true;
        _leaderId = 0;
        Log.Error(Subsystem, $"the controller stopped on this node: {why}");
        var failure = new ControllerUnavailableException($"the controller failed on this node: {why}");
        FailWaiters(failure);
        _replayed.TrySetException(failure);
    }

    private void Send(List<Message> messages)
    {
        foreach (var message in messages)
        {
            if (message.Type == MessageType.Snapshot)
            {
                _links.SendSnapshot(Group, message);
            }
            else
            {
                _batcher.Add(Group, message);
            }
        }
        _batcher.Flush(_envelopes);
        foreach (var envelope in _envelopes)
        {
            _links.Send(envelope);
            _batcher.Recycle(envelope);
        }
        _envelopes.Clear();
    }

    private void NoteLeadership(int leader)
    {
        if (leader != _leaderId)
        {
            Log.Info(Subsystem, leader == 0 ? "no controller leader" : leader == NodeId ? $"this node leads the controller (term {_raft.Term})" : $"node {leader} leads the controller");
        }
        _leaderId = leader;
        // A new cluster's first leader names it at once, not at the next tick: a lone node's start waits for it.
        ProposeClusterIdIfLeader();
    }

    private void Apply(in Entry entry)
    {
        if (entry.Type == EntryType.Normal && !entry.Data.IsEmpty)
        {
            ControllerCommand command;
            try
            {
                command = ControllerCommand.Decode(entry.Data.Span);
                Publish(_view.Apply(command, _identity.Voters));
                if (command.Type == ControllerCommandType.RemoveNode && command.NodeId == NodeId)
                {
                    Log.Error(Subsystem, "this node was removed from the cluster: its peers refuse it from now on, and it should be stopped");
                }
            }
            catch (RpcFormatException e)
            {
                // Every node of this version reads the same bytes the same way, so skipping keeps them in step.
                Log.Error(Subsystem, $"controller log entry {entry.Index} skipped: {e.Message}");
            }
        }
        _applied = entry.Index;
        CompleteWaiters(entry.Index, entry.Term);
    }

    private void InstallSnapshot(SnapshotImage image)
    {
        Publish(ClusterView.Decode(image.Data));
        _applied = _snapshotIndex = image.Index;
        Log.Info(Subsystem, $"installed the leader's controller snapshot at {image.Index}");
        CompleteWaiters(image.Index, term: 0);
    }

    private void Publish(ClusterView view)
    {
        if (ReferenceEquals(view, _view))
        {
            return;
        }
        bool formed = _view.ClusterId.Length == 0 && view.ClusterId.Length > 0;
        bool reconfigured = view.ConfigVersion != _view.ConfigVersion;
        _view = view;
        if (reconfigured)
        {
            ClusterProperties.ApplyToNode(view.Config, Log.NodeLevel, NodeId);
            ConfigChanged?.Invoke(view);
        }
        if (formed)
        {
            _rpcOptions.ClusterId = view.ClusterId;
            Log.Info(Subsystem, $"cluster {view.ClusterId} formed with voters [{string.Join(',', _identity.Voters)}]");
            _formed.TrySetResult();
        }
    }

    private async ValueTask CompactIfDueAsync()
    {
        if (_applied - _snapshotIndex < _options.SnapshotEveryEntries)
        {
            return;
        }
        if (_raft.Compact(_applied, _view.Encode()) is { } image)
        {
            await _store.SaveSnapshotAsync(image, replacesLog: false);
            _snapshotIndex = image.Index;
        }
    }
}
