namespace Eddy.Kafka.Server;

/// <summary>The Kafka error codes the server answers with (Errors.java; NOTES.md section 3.10).</summary>
public static class KafkaErrors
{
    public const short None = 0;
    public const short UnknownTopicOrPartition = 3;
    public const short CoordinatorLoadInProgress = 14;
    public const short InvalidTopic = 17;
    public const short UnsupportedVersion = 35;
    public const short InvalidRequest = 42;
    public const short OutOfOrderSequenceNumber = 45;
    public const short InvalidProducerEpoch = 47;
    public const short InvalidTxnState = 48;
    public const short TransactionalIdAuthorizationFailed = 53;
    public const short InvalidRecord = 87;
    public const short UnknownTopicId = 100;
}
