using Eddy.Observability;
using Eddy.Raft;
using Eddy.Rpc;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>
/// The Raft replicas of one shard's replicated partitions, and what they share there: one clock (every replica ticks
/// on the controller's interval), one envelope batcher and one set of connections to the other nodes (a shard sends its
/// own replicas' traffic, so no other shard is on the path), the reports of the leaderships won here (with the replicas
/// in sync) to the controller, which every node's Metadata reads, and leaderships given back to preferred replicas.
/// Outgoing messages are batched per node until the shard's current turn ends: heartbeats of many groups travel as one
/// compact list; an append gets a frame of its own, so that no frame outgrows the RPC limit, on the bulk connection,
/// where appends keep their order and no heartbeat or acknowledgement waits behind them. Touched only on its shard.
/// </summary>
internal sealed partial class ShardReplicas : IDisposable
{
    private const string Subsystem = "replication";

    /// <summary>Ticks between two looks for leaderships (and in-sync sets) the controller has not recorded yet, when no
    /// replica here started serving as leader meanwhile (that is looked at on the next tick).</summary>
    private const int ReportEveryTicks = 10;

    /// <summary>Offsets a leader may have written beyond what a majority has: past it, appends are refused until the
    /// followers catch up (REQUEST_TIMED_OUT, which clients retry).</summary>
    private const int MaxUncommittedOffsets = 1 << 22;

    /// <summary>Ticks between two passes that give leaderships back to their preferred replicas (10 s).</summary>
    private const int RebalanceEveryTicks = 200;

    private readonly Dictionary<long, Partition> _replicas = new();
    private readonly List<NodeEnvelope> _envelopes = new();
    private readonly Controller _controller;
    private readonly ControllerOptions _options;
    private readonly Shard _shard;
    private readonly EnvelopeBatcher _batcher;
    private readonly NodeLinks _links;
    private readonly Action<long, Message> _send;
    private readonly Action<Partition> _leadershipChanged;
    private readonly TimeSpan _maxLag;
    private bool _reportSoon;
    private TimerHandle _tick;
    private bool _ticking;
    private bool _flushPosted;
    private bool _reporting;
    private bool _disposed;
    private long _ticks;

    /// <param name="leadershipChanged">Told, on this shard, of each replica here that starts or stops serving as leader
    /// (the group coordinators follow the leadership of the `__consumer_offsets` partitions).</param>
    public ShardReplicas(Controller controller, ControllerOptions options, TimeSpan maxLag, Action<Partition> leadershipChanged)
    {
        _controller = controller;
        _options = options;
        _maxLag = maxLag;
        _leadershipChanged = partition =>
        {
            _reportSoon = true;
            leadershipChanged(partition);
        };
        _shard = Shard.Current!;
        _batcher = new EnvelopeBatcher(controller.NodeId);
        _links = controller.OpenLinks();
        _send = Send;
    }

    public int Count => _replicas.Count;

    /// <summary>What partition <paramref name="index"/> of <paramref name="topic"/> is opened with here.</summary>
    public ReplicaSetup SetupFor(TopicInfo topic, int index)
    {
        var options = new RaftOptions
        {
            NodeId = _controller.NodeId,
            ElectionTicks = _options.ElectionTicks,
            HeartbeatTicks = _options.HeartbeatTicks,
            // One batch per append message: a batch may be up to 8 MiB, and a frame at most 16 MiB.
            MaxEntriesPerMessage = 1,
            // With one batch per message, the window is counted in batches: wide enough that a leader streams its
            // proposals as they come (with their bytes) rather than reading them back from its log later.
            MaxInflightMessages = 256,
            // Indices are offsets (records): the core's default of 10,000 would refuse a leader a few large batches
            // ahead of its followers. Entries are in memory only until they are durable, so this bounds how far the
            // leader runs ahead of a majority, not memory.
            MaxUncommittedEntries = MaxUncommittedOffsets,
            RandomSeed = (ulong)Environment.TickCount64 ^ (ulong)PartitionGroups.IdOf(topic, index) * 0x9E3779B97F4A7C15UL,
        };
        return new ReplicaSetup(PartitionGroups.IdOf(topic, index), options, new Membership(topic.Replicas[index]), _send, _maxLag, _leadershipChanged);
    }

    /// <summary>Joins a replica to the shard's traffic. A new group's preferred leader (its first replica) campaigns at
    /// once, so a new partition has a leader within a round trip, and the leaders of new partitions are where placement
    /// spread them; the others wait their election timeout.</summary>
    public void Add(Partition partition)
    {
        var raft = partition.Raft!;
        _replicas[raft.Group] = partition;
        if (!ServesKafka)
        {
            raft.DeclineLeadership();
        }
        else if (raft.Term == 0 && partition.Topic.LeaderOf(partition.Index) == _controller.NodeId)
        {
            raft.Campaign();
        }
        if (!_ticking)
        {
            _ticking = true;
            ScheduleTick();
        }
    }

    public void Remove(Partition partition) => _replicas.Remove(partition.Raft!.Group);

    /// <summary>Peers' messages for this shard's replicas; those of groups not open here (deleted, or not yet opened)
    /// are dropped: Raft sends again what still matters.</summary>
    public void Step(List<GroupMessage> messages)
    {
        foreach (var sent in messages)
        {
            if (_replicas.TryGetValue(sent.Group, out var partition) && !partition.IsClosed)
            {
                partition.Raft!.Step(sent.Message, sent.Lease, sent.BatchesChecked);
            }
            else if (sent.Lease is { } lease)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(lease); // no replica saw the entries
            }
        }
    }

    private void Send(long group, Message message)
    {
        if (_disposed)
        {
            return;
        }
        if (message.Type == MessageType.Snapshot)
        {
            // A leader's log start, for a follower behind it: a frame of its own on the bulk connection, after the
            // appends sent before it.
            _batcher.Flush(_envelopes);
            SendEnvelopes(bulk: false);
            _links.SendSnapshot(group, message);
            return;
        }
        if (message.Type == MessageType.Append)
        {
            // Appends, with batches or without, keep their order on the bulk connection (one passing another would be
            // refused for the gap, and the follower probed and sent everything again). What waits for the end of the
            // turn leaves first, in its own frame: it must not ride in the bulk one.
            _batcher.Flush(_envelopes);
            SendEnvelopes(bulk: false);
            _batcher.Add(group, message);
            _batcher.Flush(_envelopes);
            SendEnvelopes(bulk: true);
            return;
        }
        _batcher.Add(group, message);
        if (!_flushPosted)
        {
            _flushPosted = true;
            _shard.Post(static state => ((ShardReplicas)state!).Flush(), this);
        }
    }

    private void Flush()
    {
        _flushPosted = false;
        if (!_disposed)
        {
            _batcher.Flush(_envelopes);
            SendEnvelopes(bulk: false);
        }
    }

    private void SendEnvelopes(bool bulk)
    {
        foreach (var envelope in _envelopes)
        {
            _links.Send(envelope, bulk);
            _batcher.Recycle(envelope);
        }
        _envelopes.Clear();
    }

    /// <summary>The tick goes behind the work already queued on the shard rather than run from the timer itself: a
    /// busy shard may hold peers' messages received but not yet handled, and a tick ahead of them would count a leader
    /// that did send as silent (an election on every node whose shard falls behind by an election timeout).</summary>
    private void ScheduleTick()
        => _tick = _shard.Schedule(_shard.Clock.NowNanos + _options.TickInterval.Ticks * 100,
            static state => ((ShardReplicas)state!)._shard.Post(static s => ((ShardReplicas)s!).OnTick(), state), this);

    private void OnTick()
    {
        if (_disposed)
        {
            return;
        }
        foreach (var (_, partition) in _replicas)
        {
            if (!partition.IsClosed)
            {
                partition.Raft!.Tick();
            }
        }
        if (++_ticks % ReportEveryTicks == 0 || _reportSoon)
        {
            ReportLeaders();
        }
        if (_ticks % ReportEveryTicks == 0)
        {
            MoveTowardTargets();
        }
        if (_ticks % RebalanceEveryTicks == 0)
        {
            if (ServesKafka)
            {
                GiveBackLeaderships();
            }
            else
            {
                MoveLeadershipsAway();
            }
        }
        ScheduleTick();
    }

    /// <summary>Whether this node runs the Kafka role (<see cref="NodeRoles"/>): a node no client reaches leads nothing.</summary>
    private bool ServesKafka => NodeRoles.Runs(_controller.View.Config, _controller.NodeId, NodeRole.Kafka);

    /// <summary>While this node's Kafka role is off: every replica here declines leadership, and hands on what it
    /// leads (won in an election since the role switched, when the other replicas were slower to campaign).</summary>
    private void MoveLeadershipsAway()
    {
        foreach (var (_, partition) in _replicas)
        {
            partition.Raft!.DeclineLeadership();
            if (!partition.IsClosed && partition.IsLeader)
            {
                partition.Raft.HandOffLeadership();
            }
        }
    }

    /// <summary>
    /// Hands each leadership held here whose partition prefers another replica (its first, where placement spread the
    /// leaders) to that replica, once it answered within the last heartbeats and holds the whole log: after a node comes
    /// back, its partitions' leadership returns to it and the leaders are spread over the nodes as placed, not piled on
    /// the nodes that stayed up. A replica that does not answer, or whose node runs no Kafka role, is never handed anything.
    /// </summary>
    private void GiveBackLeaderships()
    {
        long now = _shard.Clock.NowNanos;
        var recently = _options.TickInterval * _options.HeartbeatTicks * 3;
        var config = _controller.View.Config;
        foreach (var (_, partition) in _replicas)
        {
            int preferred = partition.Topic.LeaderOf(partition.Index);
            // A partition being moved is left to its move: its preferred replica may be one that is leaving.
            if (!partition.IsClosed && partition.IsLeader && preferred != _controller.NodeId && partition.Topic.TargetOf(partition.Index) is null
                && NodeRoles.Runs(config, preferred, NodeRole.Kafka) && partition.Raft!.IsCaughtUpNow(preferred, now, recently))
            {
                partition.Raft.HandOffLeadership(preferred);
            }
        }
    }

    /// <summary>Tells the controller of the leaderships won here that its view does not hold yet: one command for all of
    /// them, one at a time, looked for again a few ticks later (a report lost with a controller election goes again).</summary>
    private void ReportLeaders()
    {
        if (_reporting)
        {
            return;
        }
        _reportSoon = false;
        var view = _controller.View;
        List<PartitionLeader>? reports = null;
        foreach (var (_, partition) in _replicas)
        {
            if (partition.IsClosed || !partition.IsLeader)
            {
                continue;
            }
            var topic = partition.Topic;
            int epoch = partition.LeaderEpoch;
            var isr = partition.InSyncReplicas();
            if (view.LeaderOf(topic, partition.Index) != (_controller.NodeId, epoch) || !view.InSyncOf(topic, partition.Index).AsSpan().SequenceEqual(isr))
            {
                (reports ??= new List<PartitionLeader>()).Add(new PartitionLeader(topic.Name, topic.Id, partition.Index, _controller.NodeId, epoch, isr));
                if (reports.Count == PartitionLeader.MaxPerCommand)
                {
                    break;
                }
            }
        }
        if (reports is not null)
        {
            _reporting = true;
            _ = ReportAsync(reports);
        }
    }

    private async Task ReportAsync(List<PartitionLeader> reports)
    {
        try
        {
            await Smp.SubmitTo(Controller.Shard, () => _controller.ExecuteAsync(ControllerCommand.ReportLeaders(reports)));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Warn(Subsystem, $"reporting {reports.Count} partition leaders to the controller failed ({e.Message}); trying again");
        }
        finally
        {
            _reporting = false;
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _tick.Cancel();
        _links.Dispose();
    }
}
