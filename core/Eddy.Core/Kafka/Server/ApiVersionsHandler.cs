using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// ApiVersions (key 18): the APIs and versions this broker serves, straight from the handler table.
/// A version newer than ours is answered by the connection loop with <see cref="UnsupportedVersionResponse"/> (KIP-511).
/// </summary>
public sealed class ApiVersionsHandler : IKafkaApiHandler
{
    public short ApiKey => ApiVersionsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 4;

    public ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (ApiVersionsRequest)request;
        var response = new ApiVersionsResponse { ApiKeys = context.Server.Handlers.Advertised };
        // v3+ names the client; Kafka refuses names outside its pattern with INVALID_REQUEST (and still lists the APIs).
        if (context.Header.RequestApiVersion >= 3 && !(IsValidSoftwareField(body.ClientSoftwareName) && IsValidSoftwareField(body.ClientSoftwareVersion)))
        {
            response.ErrorCode = KafkaErrors.InvalidRequest;
        }
        return new ValueTask<IKafkaMessage?>(response);
    }

    /// <summary>The v0 answer to a version we do not know: error 35 and our list, in a shape every client can read.</summary>
    public static ApiVersionsResponse UnsupportedVersionResponse(ApiHandlerTable handlers)
        => new() { ErrorCode = KafkaErrors.UnsupportedVersion, ApiKeys = handlers.Advertised };

    /// <summary>Kafka's pattern for client software name and version: [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?</summary>
    internal static bool IsValidSoftwareField(string value)
    {
        if (value.Length == 0 || !char.IsAsciiLetterOrDigit(value[0]) || !char.IsAsciiLetterOrDigit(value[^1]))
        {
            return false;
        }
        foreach (char c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.'))
            {
                return false;
            }
        }
        return true;
    }
}
