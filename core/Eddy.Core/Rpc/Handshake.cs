namespace Eddy.Rpc;

/// <summary>
/// The first frame on a node-to-node connection: who is calling. The listening node accepts it only when the
/// cluster ids match (a node of another cluster must never join this one's Raft groups) and the node id is a valid
/// one (ids start at 1).
/// </summary>
public readonly record struct Hello(string ClusterId, int NodeId)
{
    /// <summary>Cluster ids are UUIDs today; the bound leaves room and keeps garbage from allocating.</summary>
    public const int MaxClusterIdBytes = 255;

    /// <summary>The largest frame read before the handshake is done (a hello or its reply fits well inside).</summary>
    public const int MaxHandshakeFrameBytes = 4 << 10;

    public void Write(RpcWriter writer)
    {
        writer.WriteString(ClusterId, MaxClusterIdBytes);
        writer.WriteInt32(NodeId);
    }

    public static Hello Read(ReadOnlySpan<byte> payload)
    {
        var reader = new RpcReader(payload);
        var hello = new Hello(reader.ReadString(MaxClusterIdBytes), reader.ReadInt32());
        reader.End();
        return hello;
    }
}

/// <summary>The listening node's answer to <see cref="Hello"/>: its own ids, and why it refused when it did.</summary>
public readonly record struct HelloReply(bool Accepted, string ClusterId, int NodeId, string Reason)
{
    public const int MaxReasonBytes = 1024;

    public void Write(RpcWriter writer)
    {
        writer.WriteBool(Accepted);
        writer.WriteString(ClusterId, Hello.MaxClusterIdBytes);
        writer.WriteInt32(NodeId);
        writer.WriteString(Reason, MaxReasonBytes);
    }

    public static HelloReply Read(ReadOnlySpan<byte> payload)
    {
        var reader = new RpcReader(payload);
        var reply = new HelloReply(reader.ReadBool(), reader.ReadString(Hello.MaxClusterIdBytes), reader.ReadInt32(), reader.ReadString(MaxReasonBytes));
        reader.End();
        return reply;
    }
}
