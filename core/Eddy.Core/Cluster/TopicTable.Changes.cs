using Eddy.Errors;
using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>Topic changes: each forwards to shard 0 and runs there, one at a time.</summary>
public sealed partial class TopicTable
{
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

    /// <summary>Replaces a topic's config overrides with what <paramref name="change"/> makes of the topic as it is on
    /// shard 0 when the change runs (IncrementalAlterConfigs): reading and writing inside one change, so two concurrent
    /// incremental changes cannot lose each other's updates.</summary>
    public ValueTask<TopicResult> ChangeTopicConfigsAsync(string name, Func<TopicInfo, IReadOnlyDictionary<string, string>> change, bool validateOnly)
        => Smp.SubmitTo(ControllerShard, () => SetTopicConfigsOnControllerAsync(name, change, validateOnly));

    private async ValueTask<TopicResult> CreateOnControllerAsync(TopicSpec spec, bool validateOnly, bool isInternal)
    {
        await _changes.EnterAsync();
        try
        {
            if (!TopicNames.IsValid(spec.Name))
            {
                return TopicResult.Fail(KafkaErrors.InvalidTopic, $"'{spec.Name}' is not a valid topic name: up to {TopicNames.MaxLength} characters of [a-zA-Z0-9._-], not '.' or '..'");
            }
            if (_topics.TryGet(spec.Name, out _))
            {
                return TopicResult.Fail(KafkaErrors.TopicAlreadyExists, $"topic '{spec.Name}' already exists");
            }
            if (CollidesWith(spec.Name) is { } other)
            {
                // Kafka refuses names that differ only in '.' versus '_': metric names would collide.
                return TopicResult.Fail(KafkaErrors.InvalidTopic, $"topic '{spec.Name}' collides with existing topic '{other}' ('.' and '_' are the same in metric names)");
            }
            int partitions = spec.Partitions == -1 ? Options.DefaultPartitions : spec.Partitions;
            if (partitions < 1 || partitions > Options.MaxPartitionsPerTopic)
            {
                return TopicResult.Fail(KafkaErrors.InvalidPartitions, $"number of partitions must be within [1, {Options.MaxPartitionsPerTopic}], not {partitions}");
            }
            short replication = spec.ReplicationFactor == -1 ? Options.DefaultReplicationFactor : spec.ReplicationFactor;
            if (replication < 1)
            {
                return TopicResult.Fail(KafkaErrors.InvalidReplicationFactor, $"replication factor must be at least 1, not {spec.ReplicationFactor}");
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
            topic = topic with { Revision = await _store.NextRevisionAsync() };
            await _store.PutTopicAsync(topic);
            try
            {
                await _reconciler.OpenNewAsync(topic, 0, partitions, LeaderEpoch);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // All or nothing: the record goes too, so that neither a restart nor a retry finds half a topic.
                Log.Error(Subsystem, $"topic '{topic.Name}': opening partitions failed, the topic is not created: {e.Message}");
                await _store.DeleteTopicAsync(topic);
                return TopicResult.Fail(KafkaErrors.KafkaStorageError, $"topic '{topic.Name}' was not created: its partitions could not be opened: {e.Message}");
            }
            Publish(topics =>
            {
                topics[topic.Name] = topic;
                return true;
            });
            Log.Info(Subsystem, $"created topic '{topic.Name}' ({partitions} partitions, replication factor {replication}{(replication > 1 ? ", one replica on this single node" : "")})");
            return TopicResult.Ok(topic);
        }
        finally
        {
            _changes.Exit();
        }
    }

    private async ValueTask<TopicResult> DeleteOnControllerAsync(string name)
    {
        await _changes.EnterAsync();
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
            // Forget it first, so new requests stop finding it; then drop the record and the data.
            Publish(topics => topics.Remove(name));
            await _store.DeleteTopicAsync(topic);
            await _reconciler.CloseTopicAsync(topic, delete: true);
            Log.Info(Subsystem, $"deleted topic '{name}'");
            return TopicResult.Ok(topic);
        }
        finally
        {
            _changes.Exit();
        }
    }

    private async ValueTask<TopicResult> CreatePartitionsOnControllerAsync(string name, int count, bool validateOnly)
    {
        await _changes.EnterAsync();
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
            await _store.PutTopicAsync(grown);
            try
            {
                await _reconciler.OpenNewAsync(grown, topic.PartitionCount, count, LeaderEpoch);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // As for a new topic: all or nothing, so the old count is recorded again.
                Log.Error(Subsystem, $"topic '{name}': opening partitions {topic.PartitionCount}..{count - 1} failed, it keeps {topic.PartitionCount}: {e.Message}");
                await _store.PutTopicAsync(topic);
                return TopicResult.Fail(KafkaErrors.KafkaStorageError, $"topic '{name}' keeps {topic.PartitionCount} partitions: the new ones could not be opened: {e.Message}");
            }
            Publish(topics =>
            {
                topics[name] = grown;
                return true;
            });
            Log.Info(Subsystem, $"topic '{name}' grew from {topic.PartitionCount} to {count} partitions");
            return TopicResult.Ok(grown);
        }
        finally
        {
            _changes.Exit();
        }
    }

    private async ValueTask<TopicResult> SetTopicConfigsOnControllerAsync(string name, Func<TopicInfo, IReadOnlyDictionary<string, string>> change, bool validateOnly)
    {
        await _changes.EnterAsync();
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
            await _store.PutTopicAsync(changed);
            Publish(topics =>
            {
                topics[name] = changed;
                return true;
            });
            await _reconciler.ReconfigureAsync(changed);
            return TopicResult.Ok(changed);
        }
        finally
        {
            _changes.Exit();
        }
    }

    private string? CollidesWith(string name)
    {
        string normalized = name.Replace('.', '_');
        foreach (var existing in _topics.ByName.Keys)
        {
            if (existing != name && existing.Replace('.', '_') == normalized)
            {
                return existing;
            }
        }
        return null;
    }
}
