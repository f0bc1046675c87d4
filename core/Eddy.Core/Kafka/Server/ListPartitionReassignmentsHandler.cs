using Eddy.Cluster;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// ListPartitionReassignments (key 46), v0: the moves in progress, of every topic or of the partitions named. As in
/// Kafka, a partition's replicas are its target then those being removed; adding are the target's nodes it did not
/// have, removing those the target drops. Named partitions that do not exist or are not moving are left out.
/// </summary>
public sealed class ListPartitionReassignmentsHandler(TopicTable table) : IKafkaApiHandler
{
    public short ApiKey => ListPartitionReassignmentsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 0;

    public ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (ListPartitionReassignmentsRequest)request;
        var response = new ListPartitionReassignmentsResponse { ErrorMessage = null };
        var topics = table.Topics;
        var wanted = body.Topics?.Select(t => (t.Name, Partitions: (IEnumerable<int>)t.PartitionIndexes))
            ?? topics.ByName.Values.OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => (t.Name, Partitions: Enumerable.Range(0, t.PartitionCount)));
        foreach (var (name, partitions) in wanted)
        {
            if (!topics.TryGet(name, out var topic))
            {
                continue;
            }
            var ongoing = new ListPartitionReassignmentsResponse.OngoingTopicReassignment { Name = name };
            foreach (int p in partitions.Distinct().Order())
            {
                if (topic.TargetOf(p) is not { } target || p >= topic.Replicas.Count)
                {
                    continue;
                }
                var replicas = topic.Replicas[p];
                ongoing.Partitions.Add(new ListPartitionReassignmentsResponse.OngoingPartitionReassignment
                {
                    PartitionIndex = p,
                    Replicas = [.. target.Union(replicas)],
                    AddingReplicas = [.. target.Except(replicas)],
                    RemovingReplicas = [.. replicas.Except(target)],
                });
            }
            if (ongoing.Partitions.Count > 0)
            {
                response.Topics.Add(ongoing);
            }
        }
        return ValueTask.FromResult<IKafkaMessage?>(response);
    }
}
