namespace Eddy.Rpc;

/// <summary>A peer refused this node's <see cref="Hello"/> (another cluster, an invalid id), or answered it with
/// something other than a <see cref="HelloReply"/>.</summary>
public sealed class RpcRefusedException(string message) : Exception(message);
