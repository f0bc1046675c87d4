using Eddy.Errors;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// Topic changes, from any node: each runs on shard 0, is checked against the topics as this node has them, then
/// proposed to the controller (<see cref="Controller.ExecuteAsync"/>) and answered once this node has applied it and
/// brought its partitions to it. A change that lost a race (the name taken meanwhile, the topic deleted) is answered
/// from what the controller applied. This node's changes go one at a time, so an incremental config change reads and
/// writes the configs as one step here.
/// </summary>
public sealed partial class TopicTable
{
    private readonly AsyncGate _proposals = new(); // shard 0: one of this node's topic changes at a time

    /// <summary>Creates a topic (or, with <paramref name="validateOnly"/>, only checks that it could be created).</summary>
    public ValueTask<TopicResult> CreateTopicAsync(TopicSpec spec, bool validateOnly)
        => Smp.SubmitTo(ControllerShard, () => CreateOnControllerAsync(spec, validateOnly, isInternal: false));

    /// <summary>Deletes a topic and its data. Internal topics are refused.</summary>
    public ValueTask<TopicResult> DeleteTopicAsync(string name)
        => Smp.SubmitTo(ControllerShard, () => DeleteOnControllerAsync(name));

    /// <summary>Grows a topic to <paramref name="count"/> partitions (Kafka never shrinks one).</summary>
    public ValueTask<TopicResult> CreatePartitionsAsync(string name, int count, bool validateOnly)
        => Smp.SubmitTo(ControllerShard, () => CreatePartitionsOnControllerAsync(name, count, validateOnly));

    /// <summary>Replaces a topic's config overrides with <paramref name="configs"/> (the caller merges for incremental changes).</summary>
    public ValueTask<TopicResult> SetTopicConfigsAsync(string name, IReadOnlyDictionary<string, string> configs, bool validateOnly)
        => Smp.SubmitTo(ControllerShard, () => SetTopicConfigsOnControllerAsync(name, _ => configs, validateOnly));

    /// <summary>Replaces a topic's config overrides with what <paramref name="change"/> makes of the topic as this node
    /// has it when the change runs (IncrementalAlterConfigs): this node's changes go one at a time, so two concurrent
    /// incremental changes through it cannot lose each other's updates.</summary>
    public ValueTask<TopicResult> ChangeTopicConfigsAsync(string name, Func<TopicInfo, IReadOnlyDictionary<string, string>> change, bool validateOnly)
        => Smp.SubmitTo(ControllerShard, () => SetTopicConfigsOnControllerAsync(name, change, validateOnly));

    private async ValueTask<TopicResult> CreateOnControllerAsync(TopicSpec spec, bool validateOnly, bool isInternal)
    {
        await _proposals.EnterAsync();
        try
        {
            if (!TopicNames.IsValid(spec.Name))
            {
                return TopicResult.Fail(KafkaErrors.InvalidTopic, $"'{spec.Name}' is not a valid topic name: up to {TopicNames.MaxLength} characters of [a-zA-Z0-9._-], not '.' or '..'");
            }
            var view = _controller.View;
            if (view.Topics.ContainsKey(spec.Name))
            {
                return TopicResult.Fail(KafkaErrors.TopicAlreadyExists, $"topic '{spec.Name}' already exists");
            }
            if (view.CollidesWith(spec.Name) is { } other)
            {
                // Kafka refuses names that differ only in '.' versus '_': metric names would collide.
                return TopicResult.Fail(KafkaErrors.InvalidTopic, $"topic '{spec.Name}' collides with existing topic '{other}' ('.' and '_' are the same in metric names)");
            }
            int partitions = spec.Partitions == -1 ? DefaultPartitions : spec.Partitions;
            if (partitions < 1 || partitions > Options.MaxPartitionsPerTopic)
            {
                return TopicResult.Fail(KafkaErrors.InvalidPartitions, $"number of partitions must be within [1, {Options.MaxPartitionsPerTopic}], not {partitions}");
            }
            short replication = spec.ReplicationFactor == -1 ? DefaultReplicationFactor : spec.ReplicationFactor;
            int nodes = view.PlacementNodes(_controller.Voters).Length;
            if (replication < 1 || replication > nodes)
            {
                return TopicResult.Fail(KafkaErrors.InvalidReplicationFactor, replication < 1
                    ? $"replication factor must be at least 1, not {spec.ReplicationFactor}"
                    : $"replication factor {replication} is larger than the {nodes} nodes of the cluster");
            }
            if (TopicConfigs.Validate(spec.Configs!) is { } problem)
            {
                return TopicResult.Fail(KafkaErrors.InvalidConfig, problem);
            }
            var topic = new TopicInfo(spec.Name, Guid.NewGuid(), partitions, replication,
                new Dictionary<string, string>(spec.Configs, StringComparer.Ordinal), 0, isInternal);
            if (validateOnly)
            {
                return TopicResult.Ok(topic);
            }
            if (await ProposeAsync(ControllerCommandType.CreateTopic, topic) is { } unavailable)
            {
                return unavailable;
            }
            if (!_topics.TryGet(spec.Name, out var created) || created.Id != topic.Id)
            {
                return TopicResult.Fail(KafkaErrors.TopicAlreadyExists, $"topic '{spec.Name}' already exists");
            }
            if (_openFailures.Remove((created.Name, created.Id), out string? why))
            {
                // All or nothing where the client can see it: the topic goes again, so no retry finds half of it.
                await ProposeAsync(ControllerCommandType.DeleteTopic, created);
                return TopicResult.Fail(KafkaErrors.KafkaStorageError, $"topic '{spec.Name}' was not created: its partitions could not be opened: {why}");
            }
            return TopicResult.Ok(created);
        }
        finally
        {
            _proposals.Exit();
        }
    }

    private async ValueTask<TopicResult> DeleteOnControllerAsync(string name)
    {
        await _proposals.EnterAsync();
        try
        {
            if (!_topics.TryGet(name, out var topic))
            {
                return TopicResult.Fail(KafkaErrors.UnknownTopicOrPartition, $"topic '{name}' does not exist");
            }
            if (topic.IsInternal)
            {
                return TopicResult.Fail(KafkaErrors.TopicAuthorizationFailed, $"'{name}' is an internal topic and cannot be deleted");
            }
            return await ProposeAsync(ControllerCommandType.DeleteTopic, topic) ?? TopicResult.Ok(topic);
        }
        finally
        {
            _proposals.Exit();
        }
    }

    private async ValueTask<TopicResult> CreatePartitionsOnControllerAsync(string name, int count, bool validateOnly)
    {
        await _proposals.EnterAsync();
        try
        {
            if (!_topics.TryGet(name, out var topic))
            {
                return TopicResult.Fail(KafkaErrors.UnknownTopicOrPartition, $"topic '{name}' does not exist");
            }
            if (count <= topic.PartitionCount)
            {
                return TopicResult.Fail(KafkaErrors.InvalidPartitions, $"topic '{name}' has {topic.PartitionCount} partitions; the new count must be larger, not {count}");
            }
            if (count > Options.MaxPartitionsPerTopic)
            {
                return TopicResult.Fail(KafkaErrors.InvalidPartitions, $"number of partitions must be at most {Options.MaxPartitionsPerTopic}, not {count}");
            }
            if (topic.IsInternal)
            {
                return TopicResult.Fail(KafkaErrors.TopicAuthorizationFailed, $"'{name}' is an internal topic; its partition count is fixed");
            }
            var grown = topic with { PartitionCount = count };
            if (validateOnly)
            {
                return TopicResult.Ok(grown);
            }
            if (await ProposeAsync(ControllerCommandType.CreatePartitions, grown) is { } unavailable)
            {
                return unavailable;
            }
            if (!_topics.TryGet(name, out var now) || now.Id != topic.Id)
            {
                return TopicResult.Fail(KafkaErrors.UnknownTopicOrPartition, $"topic '{name}' was deleted meanwhile");
            }
            if (_openFailures.Remove((now.Name, now.Id), out string? why))
            {
                // Kafka never shrinks a topic, so the count stays; the partitions that could not be opened here are
                // unavailable until they can be (a restart tries again).
                return TopicResult.Fail(KafkaErrors.KafkaStorageError, $"topic '{name}' has {now.PartitionCount} partitions, but some placed on this node could not be opened: {why}");
            }
            return TopicResult.Ok(now);
        }
        finally
        {
            _proposals.Exit();
        }
    }

    private async ValueTask<TopicResult> SetTopicConfigsOnControllerAsync(string name, Func<TopicInfo, IReadOnlyDictionary<string, string>> change, bool validateOnly)
    {
        await _proposals.EnterAsync();
        try
        {
            if (!_topics.TryGet(name, out var topic))
            {
                return TopicResult.Fail(KafkaErrors.UnknownTopicOrPartition, $"topic '{name}' does not exist");
            }
            var configs = change(topic);
            if (TopicConfigs.Validate(configs!) is { } problem)
            {
                return TopicResult.Fail(KafkaErrors.InvalidConfig, problem);
            }
            var changed = topic with { Configs = new Dictionary<string, string>(configs, StringComparer.Ordinal) };
            if (validateOnly)
            {
                return TopicResult.Ok(changed);
            }
            if (await ProposeAsync(ControllerCommandType.AlterTopicConfigs, changed) is { } unavailable)
            {
                return unavailable;
            }
            return _topics.TryGet(name, out var now) && now.Id == topic.Id
                ? TopicResult.Ok(now)
                : TopicResult.Fail(KafkaErrors.UnknownTopicOrPartition, $"topic '{name}' was deleted meanwhile");
        }
        finally
        {
            _proposals.Exit();
        }
    }

    /// <summary>Has the controller apply a topic command and waits until this node reflects it; a failure to reach the
    /// controller comes back as REQUEST_TIMED_OUT (the client retries), otherwise null.</summary>
    private async ValueTask<TopicResult?> ProposeAsync(ControllerCommandType type, TopicInfo topic)
    {
        try
        {
            long index = await _controller.ExecuteAsync(ControllerCommand.ForTopic(type, topic));
            await WaitReconciledAsync(index);
            return null;
        }
        catch (ControllerUnavailableException e)
        {
            return TopicResult.Fail(KafkaErrors.RequestTimedOut, $"the change to topic '{topic.Name}' was not applied: {e.Message}");
        }
    }
}
