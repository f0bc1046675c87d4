using Eddy.Kafka.Protocol.Messages;
using Eddy.Runtime;

namespace Eddy.Kafka.Groups;

/// <summary>What a SyncGroup caller waits for: an error, or its assignment (with the group's protocol, which v5 reports).</summary>
public readonly record struct SyncOutcome(short ErrorCode, byte[] Assignment, string? ProtocolType = null, string? ProtocolName = null);

/// <summary>
/// One member of a classic group: who it is, the protocols it offered in its last JoinGroup, its assignment in the
/// current generation, and the requests it is waiting on. Owned by the coordinator's shard.
/// </summary>
internal sealed class GroupMember
{
    public GroupMember(string memberId, string? groupInstanceId, string clientId, string clientHost, int rebalanceTimeoutMs,
        int sessionTimeoutMs, string protocolType, List<(string Name, byte[] Metadata)> protocols)
    {
        MemberId = memberId;
        GroupInstanceId = groupInstanceId;
        ClientId = clientId;
        ClientHost = clientHost;
        RebalanceTimeoutMs = rebalanceTimeoutMs;
        SessionTimeoutMs = sessionTimeoutMs;
        ProtocolType = protocolType;
        Protocols = protocols;
    }

    public string MemberId { get; }
    public string? GroupInstanceId { get; }
    public string ClientId { get; set; }
    public string ClientHost { get; set; }
    public int RebalanceTimeoutMs { get; set; }
    public int SessionTimeoutMs { get; set; }
    public string ProtocolType { get; }

    /// <summary>The protocols offered, in the member's order of preference, with their opaque metadata.</summary>
    public List<(string Name, byte[] Metadata)> Protocols { get; set; }

    /// <summary>This member's assignment in the current generation (empty until the leader's SyncGroup).</summary>
    public byte[] Assignment { get; set; } = [];

    /// <summary>Set while a JoinGroup of this member waits for the rebalance to complete.</summary>
    public TaskCompletionSource<JoinGroupResponse>? JoinWaiter { get; set; }

    /// <summary>Set while a SyncGroup of this member waits for the leader's assignment.</summary>
    public TaskCompletionSource<SyncOutcome>? SyncWaiter { get; set; }

    /// <summary>The session expiry timer; re-armed by every heartbeat, join, sync and commit.</summary>
    public TimerHandle SessionTimer { get; set; }

    public bool IsStatic => GroupInstanceId is not null;

    /// <summary>A member waiting in JoinGroup or SyncGroup is alive by definition: its session does not run out.</summary>
    public bool IsAwaiting => JoinWaiter is not null || SyncWaiter is not null;

    public byte[]? MetadataFor(string protocol)
    {
        foreach (var (name, metadata) in Protocols)
        {
            if (name == protocol)
            {
                return metadata;
            }
        }
        return null;
    }

    /// <summary>Same protocols, same order, same metadata: a rejoin that changes nothing.</summary>
    public bool Matches(List<(string Name, byte[] Metadata)> protocols)
    {
        if (protocols.Count != Protocols.Count)
        {
            return false;
        }
        for (int i = 0; i < protocols.Count; i++)
        {
            if (protocols[i].Name != Protocols[i].Name || !protocols[i].Metadata.AsSpan().SequenceEqual(Protocols[i].Metadata))
            {
                return false;
            }
        }
        return true;
    }

    public void CompleteJoin(JoinGroupResponse response)
    {
        var waiter = JoinWaiter;
        JoinWaiter = null;
        waiter?.TrySetResult(response);
    }

    public void CompleteSync(SyncOutcome outcome)
    {
        var waiter = SyncWaiter;
        SyncWaiter = null;
        waiter?.TrySetResult(outcome);
    }
}
