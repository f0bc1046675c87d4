using Eddy.Errors;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>One partition's part of a reassignment request: its new replicas, or empty to cancel the one in progress.</summary>
public readonly record struct PartitionReassignment(int Partition, int[] Target);

/// <summary>What became of one partition's reassignment request.</summary>
public readonly record struct ReassignmentOutcome(int Partition, short Error, string? Message);

// Reassignments (AlterPartitionReassignments): checked here, then proposed to the controller as one command per topic;
// each partition's leader then moves its group (ShardReplicas.Reassignments.cs).
public sealed partial class TopicTable
{
    /// <summary>Sets (or, with an empty target, cancels) the target replicas of some partitions of topic
    /// <paramref name="name"/>, and answers once the controller recorded them: the moves themselves go on in the
    /// background, as in Kafka (ListPartitionReassignments shows them until done).</summary>
    public ValueTask<IReadOnlyList<ReassignmentOutcome>> ReassignPartitionsAsync(string name, IReadOnlyList<PartitionReassignment> changes)
        => Smp.SubmitTo(ControllerShard, () => ReassignOnControllerAsync(name, changes));

    private async ValueTask<IReadOnlyList<ReassignmentOutcome>> ReassignOnControllerAsync(string name, IReadOnlyList<PartitionReassignment> changes)
    {
        await _proposals.EnterAsync();
        try
        {
            var outcomes = new List<ReassignmentOutcome>(changes.Count);
            if (!_topics.TryGet(name, out var topic))
            {
                outcomes.AddRange(changes.Select(c => new ReassignmentOutcome(c.Partition, KafkaErrors.UnknownTopicOrPartition, $"topic '{name}' does not exist")));
                return outcomes;
            }
            var targets = new int[]?[topic.PartitionCount];
            var accepted = new List<int>();
            foreach (var (partition, target) in changes)
            {
                string? problem = null;
                short error = KafkaErrors.InvalidReplicaAssignment;
                if (partition < 0 || partition >= topic.PartitionCount)
                {
                    (error, problem) = (KafkaErrors.UnknownTopicOrPartition, $"topic '{name}' has no partition {partition}");
                }
                else if (targets[partition] is not null)
                {
                    (error, problem) = (KafkaErrors.InvalidRequest, $"partition {partition} appears more than once in the request");
                }
                else if (target.Length == 0 && topic.TargetOf(partition) is null)
                {
                    (error, problem) = (KafkaErrors.NoReassignmentInProgress, $"partition {partition} of '{name}' is not being reassigned");
                }
                else if (target.Length > 0)
                {
                    problem = _controller.View.ReassignmentProblem(topic, partition, target, _controller.Voters);
                }
                if (problem is not null)
                {
                    outcomes.Add(new ReassignmentOutcome(partition, error, problem));
                    continue;
                }
                targets[partition] = target;
                accepted.Add(partition);
            }
            if (accepted.Count > 0)
            {
                var failure = await ProposeAsync(ControllerCommandType.ReassignPartitions, topic with { Targets = targets });
                bool gone = !_topics.TryGet(name, out var now) || now.Id != topic.Id;
                foreach (int partition in accepted)
                {
                    outcomes.Add(failure is { } f ? new ReassignmentOutcome(partition, f.Error, f.Message)
                        : gone ? new ReassignmentOutcome(partition, KafkaErrors.UnknownTopicOrPartition, $"topic '{name}' was deleted meanwhile")
                        : new ReassignmentOutcome(partition, KafkaErrors.None, null));
                }
            }
            return outcomes;
        }
        finally
        {
            _proposals.Exit();
        }
    }
}
