using System.Diagnostics.CodeAnalysis;

namespace Eddy.Kafka.Protocol;

/// <summary>
/// The one exception the codec throws for bytes it cannot accept (and for values it cannot encode).
/// It says what was wrong and where, and carries the Kafka error code a broker should answer with,
/// so a connection handler can turn it into a response or close the connection with a log line.
/// </summary>
public sealed class KafkaProtocolException : Exception
{
    public const short CorruptMessage = 2;
    public const short UnsupportedVersion = 35;
    public const short InvalidRequest = 42;

    /// <summary>Byte offset in the decoded buffer (frame or batch) where the problem was found; -1 when encoding.</summary>
    public long Offset { get; }

    /// <summary>The Kafka error code that matches the failure (42 INVALID_REQUEST unless stated).</summary>
    public short ErrorCode { get; }

    public KafkaProtocolException() : this("malformed Kafka protocol data", -1) { }
    public KafkaProtocolException(string message) : this(message, -1) { }
    public KafkaProtocolException(string message, Exception inner) : base(message, inner) { Offset = -1; ErrorCode = InvalidRequest; }

    public KafkaProtocolException(string what, long offset, short errorCode = InvalidRequest, Exception? inner = null)
        : base(offset >= 0 ? $"{what} at offset {offset}" : what, inner)
    {
        Offset = offset;
        ErrorCode = errorCode;
    }

    [DoesNotReturn]
    internal static void Throw(string what, long offset, short errorCode = InvalidRequest) =>
        throw new KafkaProtocolException(what, offset, errorCode);

    public static KafkaProtocolException CannotEncode(string field, short version) =>
        new($"{field} is set but cannot be encoded in version {version}", -1, UnsupportedVersion);

    public static KafkaProtocolException NullField(string field) =>
        new($"{field} is null but not nullable in this version", -1);
}
