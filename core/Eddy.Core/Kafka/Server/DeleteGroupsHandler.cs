using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>DeleteGroups (key 42), v0-2: an empty group goes with its offsets (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND if unknown).</summary>
public sealed class DeleteGroupsHandler(GroupRouter router) : IKafkaApiHandler
{
    public short ApiKey => DeleteGroupsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 2;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (DeleteGroupsRequest)request;
        var response = new DeleteGroupsResponse();
        foreach (string groupId in body.GroupsNames)
        {
            short error = await router.OnOwnerAsync(groupId, c => c.DeleteGroupAsync(groupId));
            response.Results.Add(new DeleteGroupsResponse.DeletableGroupResult { GroupId = groupId, ErrorCode = error });
        }
        return response;
    }
}
