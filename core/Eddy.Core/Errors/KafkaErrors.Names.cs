namespace Eddy.Errors;

/// <summary>Kafka's names for its error codes (Errors.java), for messages a person reads: the CLI's errors and logs.</summary>
public static partial class KafkaErrors
{
    /// <summary>The code's name as Kafka spells it, or "error N" for one this table lacks.</summary>
    public static string Name(short code) => code switch
    {
        UnknownServerError => "UNKNOWN_SERVER_ERROR",
        None => "NONE",
        OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
        CorruptMessage => "CORRUPT_MESSAGE",
        UnknownTopicOrPartition => "UNKNOWN_TOPIC_OR_PARTITION",
        LeaderNotAvailable => "LEADER_NOT_AVAILABLE",
        NotLeaderOrFollower => "NOT_LEADER_OR_FOLLOWER",
        RequestTimedOut => "REQUEST_TIMED_OUT",
        MessageTooLarge => "MESSAGE_TOO_LARGE",
        NetworkException => "NETWORK_EXCEPTION",
        OffsetMetadataTooLarge => "OFFSET_METADATA_TOO_LARGE",
        CoordinatorLoadInProgress => "COORDINATOR_LOAD_IN_PROGRESS",
        CoordinatorNotAvailable => "COORDINATOR_NOT_AVAILABLE",
        NotCoordinator => "NOT_COORDINATOR",
        InvalidTopic => "INVALID_TOPIC_EXCEPTION",
        RecordListTooLarge => "RECORD_LIST_TOO_LARGE",
        NotEnoughReplicas => "NOT_ENOUGH_REPLICAS",
        InvalidRequiredAcks => "INVALID_REQUIRED_ACKS",
        IllegalGeneration => "ILLEGAL_GENERATION",
        InconsistentGroupProtocol => "INCONSISTENT_GROUP_PROTOCOL",
        InvalidGroupId => "INVALID_GROUP_ID",
        UnknownMemberId => "UNKNOWN_MEMBER_ID",
        InvalidSessionTimeout => "INVALID_SESSION_TIMEOUT",
        RebalanceInProgress => "REBALANCE_IN_PROGRESS",
        TopicAuthorizationFailed => "TOPIC_AUTHORIZATION_FAILED",
        UnsupportedVersion => "UNSUPPORTED_VERSION",
        TopicAlreadyExists => "TOPIC_ALREADY_EXISTS",
        InvalidPartitions => "INVALID_PARTITIONS",
        InvalidReplicationFactor => "INVALID_REPLICATION_FACTOR",
        InvalidReplicaAssignment => "INVALID_REPLICA_ASSIGNMENT",
        InvalidConfig => "INVALID_CONFIG",
        NotController => "NOT_CONTROLLER",
        InvalidRequest => "INVALID_REQUEST",
        UnsupportedForMessageFormat => "UNSUPPORTED_FOR_MESSAGE_FORMAT",
        PolicyViolation => "POLICY_VIOLATION",
        OutOfOrderSequenceNumber => "OUT_OF_ORDER_SEQUENCE_NUMBER",
        DuplicateSequenceNumber => "DUPLICATE_SEQUENCE_NUMBER",
        InvalidProducerEpoch => "INVALID_PRODUCER_EPOCH",
        InvalidTxnState => "INVALID_TXN_STATE",
        TransactionalIdAuthorizationFailed => "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
        KafkaStorageError => "KAFKA_STORAGE_ERROR",
        UnknownProducerId => "UNKNOWN_PRODUCER_ID",
        NonEmptyGroup => "NON_EMPTY_GROUP",
        GroupIdNotFound => "GROUP_ID_NOT_FOUND",
        FencedLeaderEpoch => "FENCED_LEADER_EPOCH",
        UnknownLeaderEpoch => "UNKNOWN_LEADER_EPOCH",
        MemberIdRequired => "MEMBER_ID_REQUIRED",
        GroupMaxSizeReached => "GROUP_MAX_SIZE_REACHED",
        FencedInstanceId => "FENCED_INSTANCE_ID",
        NoReassignmentInProgress => "NO_REASSIGNMENT_IN_PROGRESS",
        GroupSubscribedToTopic => "GROUP_SUBSCRIBED_TO_TOPIC",
        InvalidRecord => "INVALID_RECORD",
        UnknownTopicId => "UNKNOWN_TOPIC_ID",
        BrokerIdNotRegistered => "BROKER_ID_NOT_REGISTERED",
        MismatchedEndpointType => "MISMATCHED_ENDPOINT_TYPE",
        UnsupportedEndpointType => "UNSUPPORTED_ENDPOINT_TYPE",
        _ => $"error {code}",
    };

    /// <summary>Errors after which the same request may succeed once the client has fresh metadata or waited: a
    /// connection broke, a leader or is being elected, a replica set is short for now, a coordinator is loading or moved.</summary>
    public static bool IsRetriable(short code) => code is NetworkException or LeaderNotAvailable or NotLeaderOrFollower or RequestTimedOut
        or NotEnoughReplicas or CoordinatorLoadInProgress or CoordinatorNotAvailable or NotCoordinator or NotController
        or FencedLeaderEpoch or UnknownLeaderEpoch or UnknownTopicOrPartition or KafkaStorageError or RebalanceInProgress;
}
