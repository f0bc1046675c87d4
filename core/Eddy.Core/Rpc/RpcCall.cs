namespace Eddy.Rpc;

/// <summary>What a <see cref="RpcMessageType.Request"/> asks for. Numbers are on the wire: never reuse one.</summary>
public enum RpcMethod : short
{
    /// <summary>Propose a controller command to the controller leader and answer once it is applied there
    /// (body: the command; answer: the index it was applied at).</summary>
    ControllerCommand = 1,

    /// <summary>A node not among the seeds asks to join the cluster (body: <see cref="JoinRequest"/>; answer:
    /// <see cref="JoinReply"/>). Any node takes it and has the controller record the newcomer.</summary>
    Join = 2,

    /// <summary>Asks the controller's leader how long ago it last heard from each member (body: empty; answer:
    /// int32 n, n x (int32 node, int64 milliseconds, -1 for never)), for the admin API's liveness.</summary>
    MemberSilence = 3,

    /// <summary>Asks a node which version of the cluster's config it has applied (body: empty; answer: int64 version,
    /// byte 1 when a property that needs a restart changed since the node started), for /v1/cluster_config/status.</summary>
    ConfigStatus = 4,

    /// <summary>Asks a node which version it runs (body: empty; answer: int32 logical version, string software version),
    /// for /v1/brokers and /v1/features.</summary>
    NodeVersion = 5,
}

/// <summary>The answer to a call: a body, or the reason it failed (no leader, refused, ...).</summary>
public readonly record struct RpcReply(bool Ok, byte[] Body, string Error)
{
    public const int MaxErrorBytes = 1024;

    public static RpcReply Success(byte[] body) => new(true, body, "");

    public static RpcReply Failure(string error) => new(false, [], error);
}

/// <summary>
/// The payloads of <see cref="RpcMessageType.Request"/> (int16 method, int32 length, body) and
/// <see cref="RpcMessageType.Response"/> (bool ok, then int32 length and body, or an int16-length error string).
/// </summary>
public static class RpcCall
{
    public static void WriteRequest(RpcWriter writer, RpcMethod method, ReadOnlySpan<byte> body)
    {
        writer.WriteInt16((short)method);
        writer.WriteBytes(body);
    }

    public static (RpcMethod Method, byte[] Body) ReadRequest(ReadOnlySpan<byte> payload)
    {
        var reader = new RpcReader(payload);
        var method = (RpcMethod)reader.ReadInt16();
        var body = reader.ReadBytes();
        reader.End();
        return (method, body);
    }

    public static void WriteReply(RpcWriter writer, in RpcReply reply)
    {
        writer.WriteBool(reply.Ok);
        if (reply.Ok)
        {
            writer.WriteBytes(reply.Body);
        }
        else
        {
            string error = reply.Error.Length > RpcReply.MaxErrorBytes / 4 ? reply.Error[..(RpcReply.MaxErrorBytes / 4)] : reply.Error;
            writer.WriteString(error, RpcReply.MaxErrorBytes);
        }
    }

    public static RpcReply ReadReply(ReadOnlySpan<byte> payload)
    {
        var reader = new RpcReader(payload);
        var reply = reader.ReadBool() ? RpcReply.Success(reader.ReadBytes()) : RpcReply.Failure(reader.ReadString(RpcReply.MaxErrorBytes));
        reader.End();
        return reply;
    }
}
