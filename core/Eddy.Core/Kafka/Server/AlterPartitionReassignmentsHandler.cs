using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// AlterPartitionReassignments (key 45), v0–v1: gives partitions new target replicas (or, with null replicas, cancels
/// the move in progress), answered once the controller recorded them; each partition's leader then moves its group
/// (docs/replication.md, "Moving replicas"). With AllowReplicationFactorChange false (v1), a target of another size
/// than the partition's replicas is refused with INVALID_REPLICATION_FACTOR.
/// </summary>
public sealed class AlterPartitionReassignmentsHandler(TopicTable table) : IKafkaApiHandler
{
    public short ApiKey => AlterPartitionReassignmentsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 1;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (AlterPartitionReassignmentsRequest)request;
        var response = new AlterPartitionReassignmentsResponse { ErrorMessage = null, AllowReplicationFactorChange = body.AllowReplicationFactorChange };
        var duplicates = body.Topics.GroupBy(t => t.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        foreach (var topic in body.Topics)
        {
            var result = new AlterPartitionReassignmentsResponse.ReassignableTopicResponse { Name = topic.Name };
            response.Responses.Add(result);
            if (duplicates.Contains(topic.Name))
            {
                result.Partitions.AddRange(topic.Partitions.Select(p => Outcome(new(p.PartitionIndex, KafkaErrors.InvalidRequest, $"topic '{topic.Name}' appears more than once in the request"))));
                continue;
            }
            var changes = new List<PartitionReassignment>();
            foreach (var partition in topic.Partitions)
            {
                var target = partition.Replicas?.ToArray() ?? [];
                if (!body.AllowReplicationFactorChange && target.Length > 0 && table.Topics.TryGet(topic.Name, out var known)
                    && partition.PartitionIndex >= 0 && partition.PartitionIndex < known.Replicas.Count && known.Replicas[partition.PartitionIndex].Length != target.Length)
                {
                    result.Partitions.Add(Outcome(new(partition.PartitionIndex, KafkaErrors.InvalidReplicationFactor,
                        $"partition {partition.PartitionIndex} has {known.Replicas[partition.PartitionIndex].Length} replicas, and the request allows no change of that")));
                    continue;
                }
                changes.Add(new PartitionReassignment(partition.PartitionIndex, target));
            }
            if (changes.Count > 0)
            {
                foreach (var outcome in await table.ReassignPartitionsAsync(topic.Name, changes))
                {
                    result.Partitions.Add(Outcome(outcome));
                }
            }
        }
        return response;
    }

    private static AlterPartitionReassignmentsResponse.ReassignablePartitionResponse Outcome(ReassignmentOutcome outcome)
        => new() { PartitionIndex = outcome.Partition, ErrorCode = outcome.Error, ErrorMessage = outcome.Message };
}
