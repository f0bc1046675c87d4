using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// CreatePartitions (key 37), v0–v3: grows each topic to the count asked for (or, with validateOnly, checks that it
/// could). Manual assignments are accepted when there is one per new partition and each names this node, the only one.
/// </summary>
public sealed class CreatePartitionsHandler(TopicTable table) : IKafkaApiHandler
{
    public short ApiKey => CreatePartitionsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 3;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (CreatePartitionsRequest)request;
        var response = new CreatePartitionsResponse();
        var duplicates = body.Topics.GroupBy(t => t.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        foreach (var wanted in body.Topics)
        {
            var result = new CreatePartitionsResponse.CreatePartitionsTopicResult { Name = wanted.Name, ErrorMessage = null };
            response.Results.Add(result);
            if (duplicates.Contains(wanted.Name))
            {
                Fail(result, KafkaErrors.InvalidRequest, $"topic '{wanted.Name}' appears more than once in the request");
                continue;
            }
            if (wanted.Assignments is { } assignments && AssignmentProblem(wanted, assignments, context.Server.NodeId) is { } problem)
            {
                Fail(result, KafkaErrors.InvalidReplicaAssignment, problem);
                continue;
            }
            var grown = await table.CreatePartitionsAsync(wanted.Name, wanted.Count, body.ValidateOnly);
            if (!grown.IsOk)
            {
                Fail(result, grown.Error, grown.Message);
            }
        }
        return response;
    }

    /// <summary>Null when the assignments fit: one per new partition, each a non-empty list naming only this node once.</summary>
    private string? AssignmentProblem(CreatePartitionsRequest.CreatePartitionsTopic wanted, List<CreatePartitionsRequest.CreatePartitionsAssignment> assignments, int nodeId)
    {
        if (!table.Topics.TryGet(wanted.Name, out var topic) || wanted.Count <= topic.PartitionCount)
        {
            return null; // the broker's own checks name these (unknown topic, not growing)
        }
        int added = wanted.Count - topic.PartitionCount;
        if (assignments.Count != added)
        {
            return $"increasing the number of partitions by {added} needs {added} assignments, not {assignments.Count}";
        }
        foreach (var assignment in assignments)
        {
            if (assignment.BrokerIds.Count == 0)
            {
                return "an assignment names no broker";
            }
            if (assignment.BrokerIds.Count != assignment.BrokerIds.Distinct().Count())
            {
                return $"an assignment names a broker more than once: [{string.Join(", ", assignment.BrokerIds)}]";
            }
            if (assignment.BrokerIds.Any(id => id != nodeId))
            {
                return $"assignments may only name node {nodeId}, the only node, not [{string.Join(", ", assignment.BrokerIds)}]";
            }
        }
        return null;
    }

    private static void Fail(CreatePartitionsResponse.CreatePartitionsTopicResult result, short error, string? message)
    {
        result.ErrorCode = error;
        result.ErrorMessage = message;
    }
}
