using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>
/// Bringing this node to the controller's topics: at start all at once (<see cref="AttachAsync"/>), then after every
/// applied change, one step at a time on shard 0. A new or grown topic's local partitions are opened before it is
/// published; a deleted one is unpublished before its partitions close and their data goes.
/// </summary>
public sealed partial class TopicTable
{
    private readonly List<(long Index, TaskCompletionSource Done)> _reconcileWaiters = new();
    // Local partitions of a topic that could not be opened, by topic name and id: the change's proposer reports it.
    private readonly Dictionary<(string, Guid), string> _openFailures = new();
    private ClusterView _target = ClusterView.Empty;
    private IReadOnlyDictionary<string, string> _reconciledConfig = ClusterView.Empty.Config;
    private long _targetIndex;
    private long _reconciledIndex;
    private bool _attached;
    private bool _detached;
    private Task? _reconciling;

    /// <summary>Opens this node's partitions of every topic the controller holds once it has replayed its log, then
    /// follows its changes. Called from outside the shards, at start, once the cluster has formed.</summary>
    internal async Task AttachAsync(ShardGroup group, Controller controller)
    {
        _controller = controller;
        _reconciler.Attach(controller);
        await controller.WaitReplayedAsync();
        var (topics, starts) = await group.InvokeAsync(ControllerShard, () =>
        {
            var view = controller.View;
            _target = view;
            _targetIndex = _reconciledIndex = controller.AppliedIndex;
            controller.Applied = OnApplied;
            var list = view.Topics.Values.ToList();
            var offsets = list.ToDictionary(t => t.Name, t => Enumerable.Range(0, t.PartitionCount).Select(p => _store.StartOffset(t, p)).ToArray());
            return (list, offsets);
        });
        await _reconciler.OpenAllAsync(topics, starts, LeaderEpoch);
        _topics = new TopicsSnapshot(topics);
        await group.InvokeAsync(ControllerShard, () =>
        {
            _attached = true;
            Kick();
            return true;
        });
    }

    /// <summary>Stops following the controller and waits for the step in progress. Called from outside the shards,
    /// before the partitions close.</summary>
    internal async Task DetachAsync(ShardGroup group)
    {
        var reconciling = await group.InvokeAsync(ControllerShard, () =>
        {
            _attached = false;
            _detached = true;
            foreach (var (_, done) in _reconcileWaiters)
            {
                done.TrySetException(new ControllerUnavailableException("the node is stopping"));
            }
            _reconcileWaiters.Clear();
            return _reconciling ?? Task.CompletedTask;
        });
        await reconciling;
    }

    /// <summary>The controller applied through <paramref name="index"/>; shard 0.</summary>
    private void OnApplied(ClusterView view, long index)
    {
        _target = view;
        _targetIndex = index;
        Kick();
    }

    private void Kick()
    {
        if (_attached && _reconciling is not { IsCompleted: false } && _targetIndex > _reconciledIndex)
        {
            _reconciling = ReconcileAsync();
        }
    }

    /// <summary>Completes once this node's table reflects the controller's state through <paramref name="index"/>. Shard 0.</summary>
    internal Task WaitReconciledAsync(long index)
    {
        if (_reconciledIndex >= index)
        {
            return Task.CompletedTask;
        }
        if (_detached)
        {
            return Task.FromException(new ControllerUnavailableException("the node is stopping"));
        }
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _reconcileWaiters.Add((index, done));
        return done.Task;
    }

    private async Task ReconcileAsync()
    {
        while (_targetIndex > _reconciledIndex)
        {
            var view = _target;
            long index = _targetIndex;
            await _changes.EnterAsync();
            try
            {
                await BringToAsync(view);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.Error(Subsystem, $"bringing this node to the controller's topics at {index} failed: {e.Message}");
            }
            finally
            {
                _changes.Exit();
            }
            _reconciledIndex = index;
            for (int i = _reconcileWaiters.Count - 1; i >= 0; i--)
            {
                if (_reconcileWaiters[i].Index <= index)
                {
                    _reconcileWaiters[i].Done.TrySetResult();
                    _reconcileWaiters.RemoveAt(i);
                }
            }
        }
    }

    private async ValueTask BringToAsync(ClusterView view)
    {
        foreach (var old in _topics.ByName.Values)
        {
            if (!view.Topics.TryGetValue(old.Name, out var now) || now.Id != old.Id)
            {
                // Forget it first, so new requests stop finding it; then drop the data and its start offsets.
                Publish(topics => topics.Remove(old.Name));
                await _reconciler.CloseTopicAsync(old, delete: true);
                await _store.DeleteStartOffsetsAsync(old);
                _openFailures.Remove((old.Name, old.Id));
                Log.Info(Subsystem, $"deleted topic '{old.Name}'");
            }
        }
        foreach (var topic in view.Topics.Values)
        {
            if (!_topics.TryGet(topic.Name, out var old))
            {
                await OpenLocalAsync(topic, 0);
                Log.Info(Subsystem, $"created topic '{topic.Name}' ({topic.PartitionCount} partitions, {LocalCount(topic, 0)} on this node)");
            }
            else if (topic.PartitionCount > old.PartitionCount)
            {
                await OpenLocalAsync(topic, old.PartitionCount);
                Log.Info(Subsystem, $"topic '{topic.Name}' grew from {old.PartitionCount} to {topic.PartitionCount} partitions ({LocalCount(topic, old.PartitionCount)} new on this node)");
                // One step may cover several commands: the configs or the placement may have changed too.
                await _reconciler.ReconfigureAsync(topic);
                await _reconciler.FollowPlacementAsync(old, topic, LeaderEpoch);
            }
            else if (!ReferenceEquals(topic, old))
            {
                Publish(topics =>
                {
                    topics[topic.Name] = topic;
                    return true;
                });
                await _reconciler.ReconfigureAsync(topic);
                await _reconciler.FollowPlacementAsync(old, topic, LeaderEpoch);
            }
            else if (!ReferenceEquals(view.Config, _reconciledConfig))
            {
                // The cluster's topic defaults may have changed: topics that do not override them follow.
                await _reconciler.ReconfigureAsync(topic);
            }
        }
        _reconciledConfig = view.Config;
    }

    /// <summary>Opens the partitions from <paramref name="from"/> on that are placed on this node, then publishes the
    /// topic. Partitions that cannot be opened stay unavailable here (the failure is logged and kept for the change's
    /// proposer); the topic is published all the same, as the controller has it.</summary>
    private async ValueTask OpenLocalAsync(TopicInfo topic, int from)
    {
        try
        {
            await _reconciler.OpenNewAsync(topic, from, topic.PartitionCount, LeaderEpoch);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Error(Subsystem, $"topic '{topic.Name}': partitions {from}..{topic.PartitionCount - 1} placed on this node could not be opened and are unavailable here: {e.Message}");
            _openFailures[(topic.Name, topic.Id)] = e.Message;
        }
        Publish(topics =>
        {
            topics[topic.Name] = topic;
            return true;
        });
    }

    private int LocalCount(TopicInfo topic, int from)
    {
        int count = 0;
        for (int p = from; p < topic.PartitionCount; p++)
        {
            count += topic.LeaderOf(p) == NodeId ? 1 : 0;
        }
        return count;
    }

    /// <summary>Creates the offsets topic when the cluster has none (the first node to ask wins; the others find it),
    /// and waits until this node has it. Called from outside the shards, at start.</summary>
    internal async Task EnsureOffsetsTopicAsync(ShardGroup group)
    {
        var result = await group.InvokeAsync(ControllerShard, async () =>
        {
            if (!_controller.View.Topics.ContainsKey(OffsetsTopic))
            {
                // One replica per node at most: a cluster smaller than the option (a lone node) still gets the topic.
                short replication = (short)Math.Min(Options.OffsetsReplicationFactor, _controller.View.PlacementNodes(_controller.Voters).Length);
                var created = await CreateOnControllerAsync(new TopicSpec(OffsetsTopic, Options.OffsetsPartitions, replication,
                    new Dictionary<string, string> { [TopicConfigs.CleanupPolicy] = "compact" }), validateOnly: false, isInternal: true);
                if (!created.IsOk && created.Error != Errors.KafkaErrors.TopicAlreadyExists)
                {
                    return created;
                }
            }
            // Another node's creation may be applied here but not yet reflected in the table.
            await WaitReconciledAsync(_controller.AppliedIndex);
            return _topics.TryGet(OffsetsTopic, out var now) ? TopicResult.Ok(now) : TopicResult.Fail(Errors.KafkaErrors.UnknownTopicOrPartition, "not reflected here");
        });
        if (!result.IsOk)
        {
            throw new InvalidOperationException($"could not create {OffsetsTopic}: {result.Message}");
        }
    }
}
