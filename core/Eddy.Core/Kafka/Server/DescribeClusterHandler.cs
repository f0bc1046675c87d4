using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// DescribeCluster (key 60), v0–v2: the cluster id, the controller and the brokers (<see cref="ClusterBrokers"/>; none
/// fenced).
/// A broker listener serves endpoint type 1 (brokers); asking it for controllers (2) is answered as Kafka's broker
/// does, MISMATCHED_ENDPOINT_TYPE, and an unknown type UNSUPPORTED_ENDPOINT_TYPE (INVALID_REQUEST in v0, which
/// has neither code). Authorized operations are not reported (INT32_MIN), as in Metadata.
/// </summary>
public sealed class DescribeClusterHandler(Controller controller) : IKafkaApiHandler
{
    private const sbyte BrokerEndpoints = 1;
    private const sbyte ControllerEndpoints = 2;

    public short ApiKey => DescribeClusterRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 2;

    public ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (DescribeClusterRequest)request;
        var server = context.Server;
        bool v0 = context.Header.RequestApiVersion == 0;
        if (body.EndpointType != BrokerEndpoints)
        {
            bool controllers = body.EndpointType == ControllerEndpoints;
            return new(new DescribeClusterResponse
            {
                ErrorCode = v0 ? KafkaErrors.InvalidRequest : controllers ? KafkaErrors.MismatchedEndpointType : KafkaErrors.UnsupportedEndpointType,
                ErrorMessage = controllers
                    ? "this is a broker endpoint; there is no separate controller endpoint (every node is a controller member)"
                    : $"unsupported endpoint type {body.EndpointType}",
            });
        }
        return new(new DescribeClusterResponse
        {
            EndpointType = BrokerEndpoints,
            ClusterId = server.ClusterId,
            ControllerId = ClusterBrokers.ControllerId(controller),
            Brokers = [.. ClusterBrokers.All(controller, server).Select(b => new DescribeClusterResponse.DescribeClusterBroker { BrokerId = b.NodeId, Host = b.Host, Port = b.Port, Rack = b.Rack })],
        });
    }
}
