using Eddy.Errors;

namespace Eddy.Cluster;

/// <summary>The outcome of a topic operation: a Kafka error code (<see cref="KafkaErrors"/>) and the message for the
/// client, and the topic as it now is.</summary>
public readonly record struct TopicResult(short Error, string? Message, TopicInfo? Topic)
{
    public static TopicResult Ok(TopicInfo topic) => new(KafkaErrors.None, null, topic);

    public static TopicResult Fail(short error, string message) => new(error, message, null);

    public bool IsOk => Error == KafkaErrors.None;
}
