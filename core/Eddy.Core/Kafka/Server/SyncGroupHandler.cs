using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>SyncGroup (key 14), v0-5: the leader hands in the assignment, every member waits for its own. v5 checks the protocol type and name (KIP-559).</summary>
public sealed class SyncGroupHandler(GroupRouter router) : IKafkaApiHandler
{
    public short ApiKey => SyncGroupRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 5;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (SyncGroupRequest)request;
        short version = context.Header.RequestApiVersion;
        var assignments = body.Assignments.Select(a => (a.MemberId, a.Assignment)).ToList();
        var outcome = await router.OnOwnerAsync(body.GroupId, c => c.SyncAsync(body.GroupId, body.GenerationId, body.MemberId,
            version >= 3 ? body.GroupInstanceId : null, version >= 5 ? body.ProtocolType : null, version >= 5 ? body.ProtocolName : null, assignments));
        return new SyncGroupResponse
        {
            ErrorCode = outcome.ErrorCode,
            Assignment = outcome.Assignment,
            ProtocolType = outcome.ProtocolType,
            ProtocolName = outcome.ProtocolName,
        };
    }
}
