namespace Eddy.Rpc;

/// <summary>A node could not be reached, its connection failed, or it did not answer a call in time: the caller may
/// try again (another node, or the same one later).</summary>
public sealed class RpcUnavailableException(string message) : Exception(message);
