namespace Eddy.Kafka.Protocol;

/// <summary>
/// Upper bounds the decoder checks before it allocates. Every length read from the wire is also
/// bounded by the bytes that remain, so a lying length fails fast instead of allocating.
/// </summary>
public sealed class ProtocolLimits
{
    public static readonly ProtocolLimits Default = new();

    /// <summary>Largest request or response frame (Kafka's socket.request.max.bytes is 100 MiB).</summary>
    public int MaxFrameBytes { get; init; } = 100 * 1024 * 1024;
    /// <summary>Largest string in bytes (non-compact strings stop at 32767 anyway).</summary>
    public int MaxStringBytes { get; init; } = 1024 * 1024;
    /// <summary>Largest bytes field (SASL tokens, group metadata, snapshots).</summary>
    public int MaxBytesLength { get; init; } = 64 * 1024 * 1024;
    /// <summary>Most elements in one array.</summary>
    public int MaxArrayLength { get; init; } = 1 << 20;
    /// <summary>Most tagged fields in one tag buffer.</summary>
    public int MaxTaggedFields { get; init; } = 1024;
    /// <summary>Largest size a compressed batch may expand to (Kafka: max.message.bytes-ish; default 64 MiB).</summary>
    public int MaxDecompressedBytes { get; init; } = 64 * 1024 * 1024;
}
