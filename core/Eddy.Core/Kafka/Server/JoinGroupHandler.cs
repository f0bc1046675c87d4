using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// JoinGroup (key 11), v0-9, on the group's coordinator shard. The answer may wait for the rebalance to end (up to
/// the rebalance timeout); v4+ first answers a new member MEMBER_ID_REQUIRED with its id (KIP-394).
/// </summary>
public sealed class JoinGroupHandler(GroupRouter router) : IKafkaApiHandler
{
    public short ApiKey => JoinGroupRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 9;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (JoinGroupRequest)request;
        short version = context.Header.RequestApiVersion;
        string clientId = context.Header.ClientId ?? "";
        var response = await router.OnOwnerAsync(body.GroupId, c => c.JoinAsync(body, version, clientId, context.ClientHost));
        if (version < 7)
        {
            response.ProtocolName ??= ""; // nullable only from v7
        }
        return response;
    }
}
