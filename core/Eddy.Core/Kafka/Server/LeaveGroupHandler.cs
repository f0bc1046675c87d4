using Eddy.Errors;
using Eddy.Kafka.Groups;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>LeaveGroup (key 13), v0-5: one member before v3, a batch of members (by member id or instance id) from v3.</summary>
public sealed class LeaveGroupHandler(GroupRouter router) : IKafkaApiHandler
{
    public short ApiKey => LeaveGroupRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 5;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (LeaveGroupRequest)request;
        short version = context.Header.RequestApiVersion;
        List<LeavingMember> leaving = version >= 3
            ? body.Members.Select(m => new LeavingMember(m.MemberId, m.GroupInstanceId)).ToList()
            : [new LeavingMember(body.MemberId, null)];
        var (error, results) = await router.OnOwnerAsync(body.GroupId, c => c.Leave(body.GroupId, leaving));
        if (version < 3)
        {
            // One member: its error is the answer (Kafka's LeaveGroupResponse.getError).
            return new LeaveGroupResponse { ErrorCode = error != KafkaErrors.None ? error : results.FirstOrDefault().ErrorCode };
        }
        return new LeaveGroupResponse
        {
            ErrorCode = error,
            Members = results.Select(r => new LeaveGroupResponse.MemberResponse
            {
                MemberId = r.MemberId, GroupInstanceId = r.GroupInstanceId, ErrorCode = r.ErrorCode,
            }).ToList(),
        };
    }
}
