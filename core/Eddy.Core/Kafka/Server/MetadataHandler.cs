using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// Metadata (key 3): the cluster's brokers and controller (<see cref="ClusterBrokers"/>), each partition's leader as the
/// controller placed it, and the topics
/// asked for (all of them when none are named). An unknown topic with a valid name is created when the client
/// allows it (v4+) and the broker does (auto.create.topics.enable), as Kafka does for development clusters.
/// </summary>
public sealed class MetadataHandler(TopicTable table, Controller controller) : IKafkaApiHandler
{
    public short ApiKey => MetadataRequest.ApiKeyValue;
    public short MinVersion => 0;

    /// <summary>v13 only adds a top-level error code; the issue asks for up to v12.</summary>
    public short MaxVersion => 12;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (MetadataRequest)request;
        var server = context.Server;
        short version = context.Header.RequestApiVersion;
        var response = new MetadataResponse
        {
            Brokers = [.. ClusterBrokers.All(controller, server).Select(b => new MetadataResponse.MetadataResponseBroker { NodeId = b.NodeId, Host = b.Host, Port = b.Port, Rack = b.Rack })],
            ClusterId = server.ClusterId,
            ControllerId = ClusterBrokers.ControllerId(controller),
        };
        // Null (v1+) or, in v0, empty means every topic.
        if (body.Topics is null || (version == 0 && body.Topics.Count == 0))
        {
            foreach (var topic in table.Topics.ByName.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                response.Topics.Add(Describe(topic, server.NodeId));
            }
            return response;
        }
        bool mayCreate = table.AutoCreateTopics && (version < 4 || body.AllowAutoTopicCreation);
        foreach (var wanted in body.Topics)
        {
            response.Topics.Add(await DescribeAsync(wanted, version, mayCreate, server.NodeId));
        }
        return response;
    }

    private async ValueTask<MetadataResponse.MetadataResponseTopic> DescribeAsync(MetadataRequest.MetadataRequestTopic wanted, short version, bool mayCreate, int nodeId)
    {
        if (wanted.Name is null)
        {
            // v10+ may ask by id alone. The response name may be null only from v12.
            return table.Topics.ById.TryGetValue(wanted.TopicId, out var byId)
                ? Describe(byId, nodeId)
                : new MetadataResponse.MetadataResponseTopic { ErrorCode = KafkaErrors.UnknownTopicId, Name = version >= 12 ? null : "", TopicId = wanted.TopicId };
        }
        if (table.Topics.TryGet(wanted.Name, out var topic))
        {
            return Describe(topic, nodeId);
        }
        if (!TopicNames.IsValid(wanted.Name))
        {
            return new MetadataResponse.MetadataResponseTopic { ErrorCode = KafkaErrors.InvalidTopic, Name = wanted.Name };
        }
        if (mayCreate)
        {
            var created = await table.CreateTopicAsync(new TopicSpec(wanted.Name, -1, -1, new Dictionary<string, string>()), validateOnly: false);
            // Another request may have created it meanwhile: either way, describe what is there now.
            if (table.Topics.TryGet(wanted.Name, out topic))
            {
                return Describe(topic, nodeId);
            }
            return new MetadataResponse.MetadataResponseTopic { ErrorCode = created.Error, Name = wanted.Name };
        }
        return new MetadataResponse.MetadataResponseTopic { ErrorCode = KafkaErrors.UnknownTopicOrPartition, Name = wanted.Name };
    }

    /// <summary>Each partition with its leader and that leader's epoch: for one replica, the node the controller placed
    /// it on and its epoch (this node's own, or the one another node registered at its start: -1, unknown, until it has);
    /// for a replicated partition, the leader its Raft group elected and its term, as that leader reported them to the
    /// controller (LEADER_NOT_AVAILABLE until one has), with the replicas it reported in sync.</summary>
    private MetadataResponse.MetadataResponseTopic Describe(TopicInfo topic, int nodeId)
    {
        var result = new MetadataResponse.MetadataResponseTopic
        {
            Name = topic.Name,
            TopicId = topic.Id,
            IsInternal = topic.IsInternal,
            Partitions = new List<MetadataResponse.MetadataResponsePartition>(topic.PartitionCount),
        };
        var view = controller.View;
        for (int p = 0; p < topic.PartitionCount; p++)
        {
            var (leader, epoch) = view.LeaderOf(topic, p);
            if (leader == nodeId && !topic.IsReplicated(p))
            {
                epoch = table.LeaderEpoch;
            }
            // A leader that has not registered yet has no address a client could use: Kafka says LEADER_NOT_AVAILABLE.
            bool known = leader != 0 && (leader == nodeId || view.Broker(leader) is not null);
            // During a reassignment, as in Kafka: the target replicas, then those being removed.
            var replicas = topic.TargetOf(p) is { } target ? target.Union(topic.Replicas[p]).ToArray() : p < topic.Replicas.Count ? topic.Replicas[p] : [];
            result.Partitions.Add(new MetadataResponse.MetadataResponsePartition
            {
                ErrorCode = known ? KafkaErrors.None : KafkaErrors.LeaderNotAvailable,
                PartitionIndex = p,
                LeaderId = known ? leader : -1,
                LeaderEpoch = known ? epoch : -1,
                ReplicaNodes = [.. replicas],
                IsrNodes = [.. view.InSyncOf(topic, p)],
            });
        }
        return result;
    }
}
