using Eddy.Errors;

namespace Eddy.Client;

/// <summary>A request the cluster answered with an error code; the message names the operation, the error by Kafka's
/// name, and the broker's own message where it sent one.</summary>
public sealed class KafkaException(short errorCode, string message) : Exception(message)
{
    public short ErrorCode { get; } = errorCode;

    public static KafkaException For(string operation, short code, string? brokerMessage = null) =>
        new(code, $"{operation}: {KafkaErrors.Name(code)}" + (string.IsNullOrEmpty(brokerMessage) ? "" : $" ({brokerMessage})"));

    /// <summary>Throws for any code but NONE.</summary>
    public static void ThrowIfError(string operation, short code, string? brokerMessage = null)
    {
        if (code != KafkaErrors.None)
        {
            throw For(operation, code, brokerMessage);
        }
    }
}

/// <summary>A broker could not be reached, or its connection broke while requests were waiting.</summary>
public sealed class KafkaConnectionException(string message, Exception? inner = null) : Exception(message, inner);
