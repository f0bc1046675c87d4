using Eddy.Errors;
using Eddy.Observability;
using Eddy.Raft.Driver;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// The Kafka error for a failure of work on a partition, in one place for every API: a log closed under the request
/// (its topic deleted, or the node stopping) is UNKNOWN_TOPIC_OR_PARTITION, an offset outside the log
/// OFFSET_OUT_OF_RANGE, a full disk or a failed log KAFKA_STORAGE_ERROR, and batches that storage's own check refuses
/// after the handler's passed CORRUPT_MESSAGE; a replicated partition's append that its Raft group refused or replaced
/// (leadership moved) NOT_LEADER_OR_FOLLOWER, so the client finds the new leader and sends it again, or, refused
/// because the followers are too far behind, REQUEST_TIMED_OUT, which the client retries as it is. Anything else is a
/// bug: UNKNOWN_SERVER_ERROR, as Kafka answers an unexpected failure, logged whole, so that the request's other
/// partitions are still answered (and what their work holds, such as a fetch's reads, still released).
/// </summary>
public static class PartitionErrors
{
    public static (short Code, string Message) Map(Exception e)
    {
        var (code, message) = e switch
        {
            LogClosedException => (KafkaErrors.UnknownTopicOrPartition, "the partition was deleted or its node is stopping"),
            ProposalRefusedException { Result: Raft.ProposeResult.Overloaded } => (KafkaErrors.RequestTimedOut, e.Message),
            ProposalRefusedException or ProposalLostException => (KafkaErrors.NotLeaderOrFollower, e.Message),
            OffsetOutOfRangeException => (KafkaErrors.OffsetOutOfRange, e.Message),
            StorageException => (KafkaErrors.KafkaStorageError, e.Message),
            ArgumentException => (KafkaErrors.CorruptMessage, e.Message),
            _ => (KafkaErrors.UnknownServerError, $"unexpected {e.GetType().Name}: {e.Message}"),
        };
        if (code == KafkaErrors.UnknownServerError)
        {
            Log.Error("cluster", $"partition work failed: {e}");
        }
        else if (code is KafkaErrors.KafkaStorageError or KafkaErrors.CorruptMessage && e is not DiskFullException)
        {
            Log.Warn("cluster", $"partition work failed: {e.Message}");
        }
        return (code, message);
    }
}
