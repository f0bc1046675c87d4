using System.Buffers.Binary;
using Eddy.Raft;
using Eddy.Rpc;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>
/// Which members answer: every member of the controller group (voters and learners: every recorded node) answers the
/// leader's heartbeats, so the leader's record of when it last heard from each is the cluster's view of who is up. Other
/// nodes hear only from the leader, so they ask it (<see cref="RpcMethod.MemberSilence"/>).
/// </summary>
public sealed partial class Controller
{
    private const int MaxSilenceEntries = ClusterView.MaxBrokers + 64;

    // When a controller message last came from each node, in the shard clock's nanoseconds; the controller's shard only.
    private readonly Dictionary<int, long> _heard = [];

    /// <summary>How recently the leader must have heard from a member for it to count as up: two election timeouts
    /// (1 s by default), so one lost heartbeat answer does not make a node look down.</summary>
    public TimeSpan AliveWindow => _options.TickInterval * (2 * _options.ElectionTicks);

    private void NoteHeard(List<GroupMessage> messages)
    {
        long now = Runtime.Shard.Current!.Clock.NowNanos;
        foreach (var (_, message) in messages)
        {
            _heard[message.From] = now;
        }
    }

    /// <summary>How long ago the controller's leader heard from each member, in milliseconds (0 for the leader itself, -1
    /// for never), asked of the leader (over RPC when another node leads); null when no leader answers within
    /// <paramref name="timeout"/>. Any thread.</summary>
    public async Task<IReadOnlyDictionary<int, long>?> SilenceAsync(TimeSpan timeout)
    {
        var here = await Smp.SubmitTo(Shard, () => _raft.Role == Role.Leader ? SilenceHere() : null);
        if (here is not null)
        {
            return here;
        }
        int leader = _leaderId;
        if (leader == 0 || leader == NodeId || _stopped)
        {
            return null;
        }
        try
        {
            var reply = await Smp.SubmitTo(Shard, () => _links.CallAsync(leader, RpcMethod.MemberSilence, Array.Empty<byte>(), timeout));
            return reply.Ok ? DecodeSilence(reply.Body) : null;
        }
        catch (Exception e) when (e is RpcUnavailableException or RpcFormatException)
        {
            return null;
        }
    }

    private Dictionary<int, long> SilenceHere()
    {
        long now = Runtime.Shard.Current!.Clock.NowNanos;
        var silence = new Dictionary<int, long>();
        var members = _raft.Membership;
        foreach (int node in members.Voters.ToArray().Concat(members.Learners.ToArray()))
        {
            silence[node] = node == NodeId ? 0 : _heard.TryGetValue(node, out long at) ? (now - at) / 1_000_000 : -1;
        }
        return silence;
    }

    private static byte[] EncodeSilence(Dictionary<int, long> silence)
    {
        var body = new byte[4 + 12 * silence.Count];
        BinaryPrimitives.WriteInt32BigEndian(body, silence.Count);
        int at = 4;
        foreach (var (node, ms) in silence)
        {
            BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(at), node);
            BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(at + 4), ms);
            at += 12;
        }
        return body;
    }

    private static Dictionary<int, long> DecodeSilence(byte[] body)
    {
        var reader = new RpcReader(body);
        int count = reader.ReadCount(12);
        if (count > MaxSilenceEntries)
        {
            throw new RpcFormatException($"{count} members' silences, more than {MaxSilenceEntries}");
        }
        var silence = new Dictionary<int, long>(count);
        for (int i = 0; i < count; i++)
        {
            silence[reader.ReadInt32()] = reader.ReadInt64();
        }
        reader.End();
        return silence;
    }
}
