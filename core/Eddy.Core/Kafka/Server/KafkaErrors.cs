namespace Eddy.Kafka.Server;

/// <summary>The Kafka error codes the server answers with (Errors.java; NOTES.md section 3.10).</summary>
public static partial class KafkaErrors
{
    public const short None = 0;
    public const short UnknownTopicOrPartition = 3;
    public const short InvalidTopic = 17;
    public const short UnsupportedVersion = 35;
    public const short InvalidRequest = 42;
    public const short UnknownTopicId = 100;
}
