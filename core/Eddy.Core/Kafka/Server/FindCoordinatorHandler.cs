using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// FindCoordinator (key 10): for a group (key type 0), the node leading the group's `__consumer_offsets` partition:
/// this node while its coordinator holds that partition (it follows the partition's leadership), another as the
/// controller's view names the leader, once that node registered, COORDINATOR_NOT_AVAILABLE (retriable) meanwhile. There is no transaction coordinator yet (key type 1:
/// COORDINATOR_NOT_AVAILABLE) and no share groups (INVALID_REQUEST). v4+ asks for several keys at once (KIP-699).
/// </summary>
public sealed class FindCoordinatorHandler(GroupRouter router, PartitionRouter partitions) : IKafkaApiHandler
{
    private const sbyte GroupKeyType = 0;
    private const sbyte TransactionKeyType = 1;

    public short ApiKey => FindCoordinatorRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 6;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (FindCoordinatorRequest)request;
        short version = context.Header.RequestApiVersion;
        sbyte keyType = version >= 1 ? body.KeyType : GroupKeyType;
        var response = new FindCoordinatorResponse();
        if (version >= 4)
        {
            foreach (string key in body.CoordinatorKeys)
            {
                var (error, nodeId, host, port) = await FindAsync(context, key, keyType);
                response.Coordinators.Add(new FindCoordinatorResponse.Coordinator
                {
                    Key = key, ErrorCode = error, ErrorMessage = Message(error), NodeId = nodeId, Host = host, Port = port,
                });
            }
            return response;
        }
        var (code, node, hostName, portNumber) = await FindAsync(context, body.Key, keyType);
        response.ErrorCode = code;
        response.ErrorMessage = version >= 1 ? Message(code) : null;
        response.NodeId = node;
        response.Host = hostName;
        response.Port = portNumber;
        return response;
    }

    private async ValueTask<(short Error, int NodeId, string Host, int Port)> FindAsync(RequestContext context, string key, sbyte keyType)
    {
        short error;
        if (keyType == GroupKeyType)
        {
            int partition = router.PartitionFor(key);
            if (!partitions.Topics.TryGet(TopicTable.OffsetsTopic, out var offsets))
            {
                return (KafkaErrors.CoordinatorNotAvailable, -1, "", -1);
            }
            // This node, when its coordinator holds the group's partition now (it may lead before the controller's view
            // says so); else the partition's leader as the view names it, once that node registered.
            var server = context.Server;
            if (offsets.HasReplicaOn(partition, server.NodeId)
                && await router.OnShardAsync(router.ShardForPartition(partition), c => c.HoldsPartition(partition)))
            {
                return (KafkaErrors.None, server.NodeId, server.AdvertisedHost, server.AdvertisedPort);
            }
            var view = partitions.Controller.View;
            int leader = view.LeaderOf(offsets, partition).Node;
            if (leader != server.NodeId && view.Broker(leader) is { } coordinator)
            {
                return (KafkaErrors.None, coordinator.NodeId, coordinator.KafkaHost, coordinator.KafkaPort);
            }
            error = KafkaErrors.CoordinatorNotAvailable;
        }
        else
        {
            error = keyType == TransactionKeyType ? KafkaErrors.CoordinatorNotAvailable : KafkaErrors.InvalidRequest;
        }
        return (error, -1, "", -1);
    }

    private static string? Message(short error) => error == KafkaErrors.None ? null : KafkaErrors.Describe(error);
}
