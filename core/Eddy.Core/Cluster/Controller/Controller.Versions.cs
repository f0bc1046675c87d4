using Eddy.Rpc;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>Which version each node runs: a node answers for itself (<see cref="RpcMethod.NodeVersion"/>).</summary>
public sealed partial class Controller
{
    /// <summary>Node <paramref name="node"/>'s logical and software versions, asked over RPC (this node's own without
    /// asking); null when it does not answer within <paramref name="timeout"/> (down, or older than the question). Any
    /// thread.</summary>
    public async Task<(int Logical, string Software)?> VersionOfAsync(int node, TimeSpan timeout)
    {
        if (node == NodeId)
        {
            return (ClusterFeatures.LogicalVersion, ClusterFeatures.SoftwareVersion);
        }
        try
        {
            var reply = await Smp.SubmitTo(Shard, () => _links.CallAsync(node, RpcMethod.NodeVersion, Array.Empty<byte>(), timeout));
            return reply.Ok ? DecodeVersion(reply.Body) : null;
        }
        catch (RpcUnavailableException)
        {
            return null;
        }
    }

    private static byte[] EncodeVersion()
    {
        var writer = new RpcWriter();
        writer.WriteInt32(ClusterFeatures.LogicalVersion);
        writer.WriteString(ClusterFeatures.SoftwareVersion, ClusterFeatures.MaxSoftwareVersionBytes);
        return writer.Written.ToArray();
    }

    private static (int, string)? DecodeVersion(byte[] body)
    {
        try
        {
            var reader = new RpcReader(body);
            int logical = reader.ReadInt32();
            string software = reader.ReadString(ClusterFeatures.MaxSoftwareVersionBytes);
            reader.End();
            return logical > 0 ? (logical, software) : null;
        }
        catch (RpcFormatException)
        {
            return null;
        }
    }
}
