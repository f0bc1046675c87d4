namespace Eddy.Kafka.Server;

/// <summary>
/// Kafka's check of the leader epoch a client believes current (Fetch, ListOffsets, OffsetForLeaderEpoch) against
/// the partition's, which is 0 forever on one node: -1 skips the check, a newer epoch is one this node has not seen
/// (UNKNOWN_LEADER_EPOCH), an older one is fenced (FENCED_LEADER_EPOCH).
/// </summary>
internal static class LeaderEpochCheck
{
    public static short Of(int currentLeaderEpoch) => currentLeaderEpoch switch
    {
        -1 => KafkaErrors.None,
        > 0 => KafkaErrors.UnknownLeaderEpoch,
        < 0 => KafkaErrors.FencedLeaderEpoch,
        _ => KafkaErrors.None,
    };
}
