using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>What a handler knows about the request besides its body; <see cref="Scope"/> holds what the response
/// borrows until it is written. <see cref="ClientHost"/> is the peer's address as Kafka reports it ("/127.0.0.1"),
/// empty when unknown.</summary>
public readonly record struct RequestContext(RequestHeader Header, KafkaServer Server, ResponseScope Scope, string ClientHost);

/// <summary>
/// Serves one API key over the versions it names; those versions are exactly what ApiVersions advertises.
/// A handler runs on the connection's shard and returns the response body, or null for no response (Produce acks=0).
/// </summary>
public interface IKafkaApiHandler
{
    short ApiKey { get; }
    short MinVersion { get; }
    short MaxVersion { get; }
    ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request);
}
