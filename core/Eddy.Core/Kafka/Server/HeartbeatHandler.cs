using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>Heartbeat (key 12), v0-4: renews the member's session; REBALANCE_IN_PROGRESS asks it to rejoin.</summary>
public sealed class HeartbeatHandler(GroupRouter router) : IKafkaApiHandler
{
    public short ApiKey => HeartbeatRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 4;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (HeartbeatRequest)request;
        string? instanceId = context.Header.RequestApiVersion >= 3 ? body.GroupInstanceId : null;
        short error = await router.OnOwnerAsync(body.GroupId, c => c.Heartbeat(body.GroupId, body.GenerationId, body.MemberId, instanceId));
        return new HeartbeatResponse { ErrorCode = error };
    }
}
