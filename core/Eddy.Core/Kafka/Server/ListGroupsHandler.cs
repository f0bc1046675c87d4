using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// ListGroups (key 16), v0-5: the groups of every shard's coordinator. v4 filters by state and v5 by type, both
/// case-insensitive; every group here is "classic".
/// </summary>
public sealed class ListGroupsHandler(GroupRouter router) : IKafkaApiHandler
{
    private const string ClassicType = "classic";

    public short ApiKey => ListGroupsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 5;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (ListGroupsRequest)request;
        short version = context.Header.RequestApiVersion;
        var states = version >= 4 && body.StatesFilter.Count > 0 ? new HashSet<string>(body.StatesFilter, StringComparer.OrdinalIgnoreCase) : null;
        var response = new ListGroupsResponse();
        if (version >= 5 && body.TypesFilter.Count > 0 && !body.TypesFilter.Contains(ClassicType, StringComparer.OrdinalIgnoreCase))
        {
            return response;
        }
        for (int shard = 0; shard < router.ShardCount; shard++)
        {
            foreach (var group in await router.OnShardAsync(shard, c => c.ListGroups()))
            {
                if (states is null || states.Contains(group.State))
                {
                    response.Groups.Add(new ListGroupsResponse.ListedGroup
                    {
                        GroupId = group.GroupId, ProtocolType = group.ProtocolType, GroupState = group.State, GroupType = ClassicType,
                    });
                }
            }
        }
        return response;
    }
}
