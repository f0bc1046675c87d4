using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Client;

/// <summary>
/// The cluster as a client sees it: the bootstrap addresses, a connection per broker (opened on first use, opened again
/// after it breaks) and Metadata. Operations (<see cref="TopicAdmin"/>, <see cref="Producer"/>, <see cref="PartitionReader"/>,
/// <see cref="GroupAdmin"/>) are built on it. Safe to use from several tasks at once.
/// </summary>
public sealed class KafkaClient : IAsyncDisposable
{
    private readonly KafkaClientOptions _options;
    private readonly IReadOnlyList<(string Host, int Port)> _bootstrap;
    private readonly Dictionary<int, Task<BrokerConnection>> _brokers = new();
    private readonly Lock _lock = new();
    private Task<BrokerConnection>? _any;
    private ClusterMetadata? _metadata;

    public KafkaClient(KafkaClientOptions options)
    {
        _options = options;
        _bootstrap = options.BootstrapEndpoints();
    }

    public KafkaClientOptions Options => _options;

    /// <summary>The metadata of the last <see cref="MetadataAsync"/>, if any.</summary>
    public ClusterMetadata? Known => _metadata;

    /// <summary>Asks any broker for the cluster's brokers and the named topics (all topics when null). Never creates a
    /// topic.</summary>
    public Task<ClusterMetadata> MetadataAsync(IReadOnlyCollection<string>? topics, CancellationToken cancel = default) =>
        MetadataAsync(topics, allowAutoCreate: false, cancel);

    /// <summary>The same for a producer: a topic that does not exist is created when the cluster creates topics on
    /// first use (`auto_create_topics_enabled`), as a producer's metadata request does in Kafka's clients.</summary>
    public Task<ClusterMetadata> MetadataForProducingAsync(IReadOnlyCollection<string> topics, CancellationToken cancel = default) =>
        MetadataAsync(topics, allowAutoCreate: true, cancel);

    private async Task<ClusterMetadata> MetadataAsync(IReadOnlyCollection<string>? topics, bool allowAutoCreate, CancellationToken cancel)
    {
        var request = new MetadataRequest
        {
            Topics = topics?.Select(t => new MetadataRequest.MetadataRequestTopic { Name = t }).ToList(),
            AllowAutoTopicCreation = allowAutoCreate,
        };
        var response = await CallAnyAsync<MetadataResponse>(request, cancel);
        return _metadata = new ClusterMetadata(response);
    }

    /// <summary>Sends to whichever broker answers (the first bootstrap address that does, or a known broker).</summary>
    public async Task<TResponse> CallAnyAsync<TResponse>(IKafkaMessage request, CancellationToken cancel = default) where TResponse : IKafkaMessage
    {
        var connection = await AnyAsync(cancel);
        return await connection.SendAsync<TResponse>(request, cancel);
    }

    /// <summary>Sends to the broker <paramref name="nodeId"/>, as the last metadata placed it.</summary>
    public async Task<TResponse> CallAsync<TResponse>(int nodeId, IKafkaMessage request, CancellationToken cancel = default) where TResponse : IKafkaMessage
    {
        var connection = await ConnectionToAsync(nodeId, cancel);
        return await connection.SendAsync<TResponse>(request, cancel);
    }

    /// <summary>The connection to broker <paramref name="nodeId"/>, opened when there is none or it broke.</summary>
    public Task<BrokerConnection> ConnectionToAsync(int nodeId, CancellationToken cancel = default)
    {
        lock (_lock)
        {
            if (_brokers.TryGetValue(nodeId, out var open) && !(open.IsCompleted && (open.IsFaulted || open.Result.IsBroken)))
            {
                return open;
            }
            var broker = _metadata?.Broker(nodeId)
                ?? throw new KafkaConnectionException($"broker {nodeId} is not in the cluster's metadata");
            var connecting = BrokerConnection.ConnectAsync(broker.Host, broker.Port, _options, cancel);
            _brokers[nodeId] = connecting;
            return connecting;
        }
    }

    private async Task<BrokerConnection> AnyAsync(CancellationToken cancel)
    {
        Task<BrokerConnection>? any;
        lock (_lock)
        {
            any = _any;
        }
        if (any is not null && !(any.IsCompleted && (any.IsFaulted || any.Result.IsBroken)))
        {
            return await any;
        }
        var failures = new List<string>();
        var candidates = _bootstrap.Concat(_metadata?.Brokers.Select(b => (b.Host, b.Port)) ?? []).Distinct();
        foreach (var (host, port) in candidates)
        {
            try
            {
                var connection = await BrokerConnection.ConnectAsync(host, port, _options, cancel);
                lock (_lock)
                {
                    _any = Task.FromResult(connection);
                }
                return connection;
            }
            catch (KafkaConnectionException e)
            {
                failures.Add(e.Message);
            }
        }
        throw new KafkaConnectionException(string.Join("; ", failures));
    }

    /// <summary>Runs <paramref name="attempt"/> until it succeeds, fails with an error that is not retriable, or
    /// <paramref name="deadline"/> passes; fresh metadata is fetched before each retry, since most retriable errors mean
    /// a leader or coordinator moved.</summary>
    public async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> attempt, TimeSpan deadline, CancellationToken cancel = default)
    {
        var until = DateTime.UtcNow + deadline;
        var backoff = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                return await attempt(cancel);
            }
            catch (Exception e) when ((e is KafkaException k && KafkaErrors.IsRetriable(k.ErrorCode) || e is KafkaConnectionException) && DateTime.UtcNow < until)
            {
                await Task.Delay(backoff, cancel);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 1000));
                try
                {
                    await MetadataAsync(_metadata?.Topics.Keys.ToList(), cancel);
                }
                catch (Exception refresh) when (refresh is KafkaConnectionException or KafkaException)
                {
                    // The next attempt says what is wrong, or the deadline does.
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Task<BrokerConnection>> open;
        lock (_lock)
        {
            open = [.. _brokers.Values];
            if (_any is not null)
            {
                open.Add(_any);
            }
            _brokers.Clear();
            _any = null;
        }
        foreach (var connecting in open)
        {
            try
            {
                await (await connecting).DisposeAsync();
            }
            catch (Exception e) when (e is KafkaConnectionException or KafkaException or OperationCanceledException)
            {
                // It never opened.
            }
        }
    }
}
