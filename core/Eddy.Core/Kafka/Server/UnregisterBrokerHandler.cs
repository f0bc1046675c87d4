using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// UnregisterBroker (key 64), v0: removes a node from the cluster for good, as KRaft's controller does
/// (<see cref="Controller.RemoveNodeAsync"/>): it leaves Metadata and placement, the controller group drops it (a
/// learner is promoted in its place when it was a voter), and its id is refused from then on. BROKER_ID_NOT_REGISTERED
/// for an id that is not the cluster's, INVALID_REQUEST for the last node, REQUEST_TIMED_OUT when the controller could
/// not be reached.
/// </summary>
public sealed class UnregisterBrokerHandler(Controller controller) : IKafkaApiHandler
{
    public short ApiKey => UnregisterBrokerRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 0;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        int id = ((UnregisterBrokerRequest)request).BrokerId;
        short error = await controller.RemoveNodeAsync(id);
        return new UnregisterBrokerResponse
        {
            ErrorCode = error,
            ErrorMessage = error switch
            {
                0 => null,
                KafkaErrors.BrokerIdNotRegistered => $"node {id} is not a node of this cluster",
                KafkaErrors.InvalidRequest => $"node {id} is the cluster's last node",
                _ => "the controller did not take the change in time",
            },
        };
    }
}
