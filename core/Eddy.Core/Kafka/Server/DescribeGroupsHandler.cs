using Eddy.Errors;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// DescribeGroups (key 15), v0-6. An unknown group is GROUP_ID_NOT_FOUND from v6 (KIP-1043) and, before, state
/// "Dead" with no error, as in Kafka. Without ACLs every group operation is allowed (v3+ authorized operations).
/// </summary>
public sealed class DescribeGroupsHandler(GroupRouter router) : IKafkaApiHandler
{
    /// <summary>READ (3), DELETE (6) and DESCRIBE (8): what Kafka reports for a group when nothing is denied.</summary>
    private const int AllGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);

    public short ApiKey => DescribeGroupsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 6;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (DescribeGroupsRequest)request;
        short version = context.Header.RequestApiVersion;
        var response = new DescribeGroupsResponse();
        foreach (string groupId in body.Groups)
        {
            var described = await router.OnOwnerAsync(groupId, c => c.Describe(groupId));
            if (version < 6)
            {
                if (described.ErrorCode == KafkaErrors.GroupIdNotFound)
                {
                    described.ErrorCode = KafkaErrors.None;
                }
                described.ErrorMessage = null;
            }
            if (version >= 3 && body.IncludeAuthorizedOperations && described.ErrorCode == KafkaErrors.None)
            {
                described.AuthorizedOperations = AllGroupOperations;
            }
            response.Groups.Add(described);
        }
        return response;
    }
}
