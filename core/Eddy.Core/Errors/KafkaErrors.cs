namespace Eddy.Errors;

/// <summary>
/// The Kafka error codes (Errors.java; NOTES.md section 3.10). They are the outcomes of partition and topic operations
/// in Cluster as well as what the Kafka server answers, so they live below both: Cluster returns them, handlers copy
/// them into responses, and no layer maps one error enum onto another.
/// </summary>
public static partial class KafkaErrors
{
    public const short UnknownServerError = -1;
    public const short None = 0;
    public const short OffsetOutOfRange = 1;
    public const short CorruptMessage = 2;
    public const short UnknownTopicOrPartition = 3;
    public const short LeaderNotAvailable = 5;
    public const short NotLeaderOrFollower = 6;
    public const short RequestTimedOut = 7;
    public const short NotEnoughReplicas = 19;
    public const short MessageTooLarge = 10;
    public const short NetworkException = 13;
    public const short CoordinatorLoadInProgress = 14;
    public const short InvalidTopic = 17;
    public const short RecordListTooLarge = 18;
    public const short InvalidRequiredAcks = 21;
    public const short TopicAuthorizationFailed = 29;
    public const short UnsupportedVersion = 35;
    public const short TopicAlreadyExists = 36;
    public const short InvalidPartitions = 37;
    public const short InvalidReplicationFactor = 38;
    public const short InvalidReplicaAssignment = 39;
    public const short InvalidConfig = 40;
    public const short NotController = 41;
    public const short InvalidRequest = 42;
    public const short UnsupportedForMessageFormat = 43;
    public const short PolicyViolation = 44;
    public const short KafkaStorageError = 56;
    public const short UnknownProducerId = 59;
    public const short FencedLeaderEpoch = 74;
    public const short UnknownLeaderEpoch = 75;
    public const short NoReassignmentInProgress = 85;
    public const short OutOfOrderSequenceNumber = 45;
    public const short DuplicateSequenceNumber = 46;
    public const short InvalidProducerEpoch = 47;
    public const short InvalidTxnState = 48;
    public const short TransactionalIdAuthorizationFailed = 53;
    public const short InvalidRecord = 87;
    public const short UnknownTopicId = 100;
    public const short BrokerIdNotRegistered = 102;
    public const short MismatchedEndpointType = 114;
    public const short UnsupportedEndpointType = 115;
}
