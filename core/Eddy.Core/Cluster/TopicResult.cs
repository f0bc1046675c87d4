namespace Eddy.Cluster;

/// <summary>Why a topic operation was refused; the Kafka layer maps each to its error code.</summary>
public enum TopicError
{
    None,
    TopicAlreadyExists,
    UnknownTopic,
    InvalidTopic,
    InvalidPartitions,
    InvalidReplicationFactor,
    InvalidConfig,
    /// <summary>The operation touches an internal topic in a way only the node may.</summary>
    TopicAuthorizationFailed,
    /// <summary>Storage refused (disk full, failed log): retry later.</summary>
    StorageError,
}

/// <summary>The outcome of a topic operation: an error and the message for the client, and the topic as it now is.</summary>
public readonly record struct TopicResult(TopicError Error, string? Message, TopicInfo? Topic)
{
    public static TopicResult Ok(TopicInfo topic) => new(TopicError.None, null, topic);

    public static TopicResult Fail(TopicError error, string message) => new(error, message, null);

    public bool IsOk => Error == TopicError.None;
}
