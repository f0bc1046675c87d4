using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// Produce (key 0). Each partition's records are checked here without copying (whole v2 batches, CRC32C,
/// max.message.bytes), then appended on the partition's shard; the partitions of one request append in
/// parallel. Every append is covered by an fdatasync before it completes (the log's group commit), so acks=1 and
/// acks=all both answer once the data is durable; a replicated partition answers once its Raft group committed the
/// batch for acks=all, once the leader has it on disk for acks=1; acks=0 gets no response. An acks=all produce to a partition with fewer replicas in sync than its topic's
/// min.insync.replicas gets NOT_ENOUGH_REPLICAS and appends nothing, as in Kafka: the placement is checked here, the
/// leader's in-sync replicas (followers caught up within replica.lag.time.max.ms) on the partition's shard. A topic that
/// sets no min.insync.replicas takes the node's (min_insync_replicas). Version 0 is advertised because
/// librdkafka needs it, but v0–v2 can only carry legacy message sets and get UNSUPPORTED_VERSION per partition, as in
/// Kafka 4 (docs/protocol.md).
/// </summary>
public sealed class ProduceHandler(PartitionRouter router) : IKafkaApiHandler
{
    private static readonly Func<short, string?, AppendOutcome> Failed = static (error, message) => new AppendOutcome(error, message, -1, -1, -1);

    public short ApiKey => ProduceRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 11;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (ProduceRequest)request;
        var response = new ProduceResponse();
        // What refuses the whole request, per partition as Kafka answers it.
        short requestError = LegacyMessageFormat.CheckProduceVersion(context.Header.RequestApiVersion) != KafkaErrors.None ? KafkaErrors.UnsupportedVersion
            : body.Acks is not (0 or 1 or -1) ? KafkaErrors.InvalidRequiredAcks
            : body.TransactionalId is not null ? KafkaErrors.TransactionalIdAuthorizationFailed
            : KafkaErrors.None;
        var appends = router.FanOut(Failed);
        var topics = router.Topics;
        foreach (var topicData in body.TopicData)
        {
            var topicResponse = new ProduceResponse.TopicProduceResponse { Name = topicData.Name };
            response.Responses.Add(topicResponse);
            topics.TryGet(topicData.Name, out var topic);
            var defaults = router.TopicDefaults;
            int maxMessageBytes = topic is null ? 0 : TopicConfigs.MaxMessageBytesOf(topic, defaults);
            foreach (var partitionData in topicData.PartitionData)
            {
                topicResponse.PartitionResponses.Add(new ProduceResponse.PartitionProduceResponse { Index = partitionData.Index });
                string? message = null;
                short error = requestError != KafkaErrors.None ? requestError
                    : topic is null || partitionData.Index < 0 || partitionData.Index >= topic.PartitionCount ? KafkaErrors.UnknownTopicOrPartition
                    : topic.IsInternal ? KafkaErrors.InvalidTopic // Kafka: clients may not append to internal topics
                    : body.Acks == -1 && NotEnoughInSync(topic, partitionData.Index, defaults, out message) ? KafkaErrors.NotEnoughReplicas
                    : ProduceValidation.Check(partitionData.Records, maxMessageBytes, out message);
                if (error != KafkaErrors.None)
                {
                    appends.AddFailed(error, error == KafkaErrors.TransactionalIdAuthorizationFailed ? "transactions are not supported yet" : message);
                    continue;
                }
                var records = partitionData.Records!.Value;
                int minInSync = body.Acks == -1 ? TopicConfigs.MinInsyncReplicasOf(topic!, defaults) : 0;
                bool untilCommitted = body.Acks == -1;
                appends.Add(topic, partitionData.Index, p => AppendOnOwnerAsync(p, records, minInSync, untilCommitted));
            }
        }
        var outcomes = await appends.RunAsync();
        int at = 0;
        foreach (var topicResponse in response.Responses)
        {
            foreach (var result in topicResponse.PartitionResponses)
            {
                var outcome = outcomes[at++];
                result.ErrorCode = outcome.Error;
                result.ErrorMessage = outcome.Message;
                result.BaseOffset = outcome.BaseOffset;
                result.LogStartOffset = outcome.LogStartOffset;
                result.LogAppendTimeMs = outcome.LogAppendTime;
            }
        }
        return body.Acks == 0 ? null : response;
    }

    /// <summary>Whether the partition has fewer replicas in sync than min.insync.replicas asks of an acks=all produce.</summary>
    private static bool NotEnoughInSync(TopicInfo topic, int partition, TopicDefaults defaults, out string? message)
    {
        int wanted = TopicConfigs.MinInsyncReplicasOf(topic, defaults);
        int inSync = partition < topic.Replicas.Count ? topic.Replicas[partition].Length : 0;
        message = wanted > inSync ? $"min.insync.replicas is {wanted}, and {inSync} replica(s) of the partition are in sync" : null;
        return message is not null;
    }

    private static async ValueTask<AppendOutcome> AppendOnOwnerAsync(Partition partition, ReadOnlyMemory<byte> records, int minInSync, bool untilCommitted)
    {
        if (partition.IsReplicated && partition.InSyncCount < minInSync)
        {
            return Failed(KafkaErrors.NotEnoughReplicas, $"min.insync.replicas is {minInSync}, and {partition.InSyncCount} replica(s) of {partition} are in sync");
        }
        // Partition.AppendAsync is pooled and completes on this shard: resume inline rather than post.
        var result = await partition.AppendAsync(records, untilCommitted).ConfigureAwait(false);
        if (result.ErrorCode != KafkaErrors.None)
        {
            return Failed(result.ErrorCode, null);
        }
        // The time the log stamped (LogAppendTime topics), or a duplicate's original offset and timestamp, as Kafka.
        return new AppendOutcome(KafkaErrors.None, null, result.BaseOffset, partition.LogStartOffset, result.LogAppendTime);
    }

    private readonly record struct AppendOutcome(short Error, string? Message, long BaseOffset, long LogStartOffset, long LogAppendTime);
}
