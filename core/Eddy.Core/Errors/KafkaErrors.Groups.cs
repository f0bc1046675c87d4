namespace Eddy.Errors;

/// <summary>The error codes of the group coordinator's APIs (Errors.java; NOTES.md sections 3.4 and 3.10).</summary>
public static partial class KafkaErrors
{
    public const short OffsetMetadataTooLarge = 12;
    public const short CoordinatorNotAvailable = 15;
    public const short NotCoordinator = 16;
    public const short IllegalGeneration = 22;
    public const short InconsistentGroupProtocol = 23;
    public const short InvalidGroupId = 24;
    public const short UnknownMemberId = 25;
    public const short InvalidSessionTimeout = 26;
    public const short RebalanceInProgress = 27;
    public const short NonEmptyGroup = 68;
    public const short GroupIdNotFound = 69;
    public const short MemberIdRequired = 79;
    public const short GroupMaxSizeReached = 81;
    public const short FencedInstanceId = 82;
    public const short GroupSubscribedToTopic = 86;

    /// <summary>Kafka's message for an error, as FindCoordinator and DescribeGroups v6 carry it.</summary>
    public static string Describe(short code) => code switch
    {
        CoordinatorNotAvailable => "The coordinator is not available.",
        CoordinatorLoadInProgress => "The coordinator is loading and hence can't process requests.",
        NotCoordinator => "This is not the correct coordinator.",
        InvalidRequest => "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker.",
        GroupIdNotFound => "The group id does not exist.",
        _ => $"error {code}",
    };
}
