using System.Buffers.Binary;
using System.Collections.Frozen;
using Eddy.Rpc;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>
/// Which version of the cluster's config each node has applied, and whether it needs a restart for a change to take
/// effect: a node answers for itself (<see cref="RpcMethod.ConfigStatus"/>), from the config it started with and the
/// one it holds now.
/// </summary>
public sealed partial class Controller
{
    // The config this node held once it had replayed its log at start: what a change needing a restart is judged against.
    private FrozenDictionary<string, string>? _configAtStart;

    /// <summary>This node's applied config version, and whether a property that needs a restart differs from the value
    /// the node started with. Any thread.</summary>
    public (long Version, bool NeedsRestart) ConfigStatus
    {
        get
        {
            var view = _view;
            var atStart = _configAtStart ?? view.Config;
            bool restart = ClusterProperties.All.Any(p => p.NeedsRestart
                && ClusterProperties.SetIn(atStart, p) != ClusterProperties.SetIn(view.Config, p));
            return (view.ConfigVersion, restart);
        }
    }

    /// <summary>Remembers the config the node runs with since start; called once its log is replayed.</summary>
    private void NoteConfigAtStart() => _configAtStart ??= _view.Config;

    /// <summary>Node <paramref name="node"/>'s config status, asked over RPC (this node's own without asking); null
    /// when it does not answer within <paramref name="timeout"/>. Any thread.</summary>
    public async Task<(long Version, bool NeedsRestart)?> ConfigStatusOfAsync(int node, TimeSpan timeout)
    {
        if (node == NodeId)
        {
            return ConfigStatus;
        }
        try
        {
            var reply = await Smp.SubmitTo(Shard, () => _links.CallAsync(node, RpcMethod.ConfigStatus, Array.Empty<byte>(), timeout));
            if (!reply.Ok || reply.Body.Length != 9)
            {
                return null;
            }
            return (BinaryPrimitives.ReadInt64BigEndian(reply.Body), reply.Body[8] != 0);
        }
        catch (RpcUnavailableException)
        {
            return null;
        }
    }

    private static byte[] EncodeConfigStatus((long Version, bool NeedsRestart) status)
    {
        var body = new byte[9];
        BinaryPrimitives.WriteInt64BigEndian(body, status.Version);
        body[8] = status.NeedsRestart ? (byte)1 : (byte)0;
        return body;
    }
}
