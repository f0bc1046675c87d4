namespace Eddy.Rpc;

/// <summary>A frame's payload does not decode: a count past what the payload holds, a string too long, a value out of
/// range. The connection that sent it is closed.</summary>
public sealed class RpcFormatException(string message) : Exception(message);
