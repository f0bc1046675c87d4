using Eddy.Cluster.Producers;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Kafka.Server;

/// <summary>
/// InitProducerId (key 22) for idempotent producers, v0-v5. As in Kafka's TransactionCoordinator.handleInitProducerId,
/// a request without a transactional id always gets a fresh producer id with epoch 0; the ProducerId and
/// ProducerEpoch fields (v3+) only matter to transactional producers, so a non-transactional client that asks to
/// bump its epoch (librdkafka after an unrecoverable sequence error) gets a new id, which it accepts.
/// <para>
/// Eddy has no transaction coordinator. A transactional id gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53), the
/// code Redpanda uses for transactional requests while its transactions are disabled: librdkafka and the Java
/// client both treat it as fatal at once, where a retriable code (COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR) would
/// make them retry until their timeout. An empty transactional id is INVALID_REQUEST, as in Kafka.
/// </para>
/// Ids come from the <see cref="ProducerIdAllocator"/> on its shard, reached through <see cref="Smp"/>. v6 (2PC,
/// KIP-939, unstable in 4.3) is not served.
/// </summary>
public sealed class InitProducerIdHandler(ProducerIdAllocator allocator) : IKafkaApiHandler
{
    private const string Subsystem = "producers";

    private readonly int _allocatorShard = allocator.ShardId;
    private readonly Func<ValueTask<long>> _allocate = allocator.AllocateAsync;

    public short ApiKey => InitProducerIdRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 5;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (InitProducerIdRequest)request;
        if (body.TransactionalId is not null)
        {
            return Error(body.TransactionalId.Length == 0 ? KafkaErrors.InvalidRequest : KafkaErrors.TransactionalIdAuthorizationFailed);
        }
        long producerId;
        try
        {
            producerId = await Smp.SubmitTo(_allocatorShard, _allocate);
        }
        catch (Exception e)
        {
            // The block could not be made durable (disk full, a failed log). Kafka answers with a retriable error
            // while its id manager has no block to give; so do we, and the client tries again.
            Log.Warn(Subsystem, $"producer id allocation failed: {e.Message}");
            return Error(KafkaErrors.CoordinatorLoadInProgress);
        }
        return new InitProducerIdResponse { ProducerId = producerId, ProducerEpoch = 0 };
    }

    /// <summary>Kafka's initTransactionError: no id, no epoch.</summary>
    private static InitProducerIdResponse Error(short errorCode) => new() { ErrorCode = errorCode, ProducerId = -1, ProducerEpoch = -1 };
}
