using Confluent.Kafka;

namespace Eddy.Broker.Tests;

/// <summary>One message handed to a group member, and whether the commit of its offset that followed was acknowledged
/// by the broker. <paramref name="Sequence"/> orders all consumptions of a test.</summary>
internal sealed record Consumption(long Sequence, string Member, int Partition, long Offset, string Value, bool CommitAcknowledged);

/// <summary>Everything the members of one test consumed, and per partition the highest commit the broker acknowledged.</summary>
internal sealed class ConsumptionLog
{
    private readonly List<Consumption> _all = [];
    private readonly Dictionary<int, long> _acknowledged = [];

    public void Add(string member, int partition, long offset, string value, bool commitAcknowledged)
    {
        lock (_all)
        {
            _all.Add(new Consumption(_all.Count, member, partition, offset, value, commitAcknowledged));
            if (commitAcknowledged)
            {
                _acknowledged[partition] = Math.Max(_acknowledged.GetValueOrDefault(partition), offset + 1);
            }
        }
    }

    public List<Consumption> Snapshot()
    {
        lock (_all)
        {
            return [.. _all];
        }
    }

    /// <summary>Per partition, the offset of the highest commit acknowledged so far (0 where none was).</summary>
    public Dictionary<int, long> Acknowledged()
    {
        lock (_all)
        {
            return new Dictionary<int, long>(_acknowledged);
        }
    }
}

/// <summary>
/// A Confluent consumer in a group (subscribe, eager range assignment, manual commits) on its own thread. After each
/// message it commits that message's offset synchronously and records the message with whether the commit was
/// acknowledged, so at-least-once can be checked exactly: a message is delivered again only if a commit for it
/// failed. It tracks what the group assigned it; disposing closes the consumer, which leaves the group.
/// </summary>
internal sealed class GroupMember : IDisposable
{
    private readonly IConsumer<Ignore, string> _consumer;
    private readonly ConsumptionLog _log;
    private readonly Thread _thread;
    private readonly List<string> _errors = [];
    private HashSet<int> _owned = [];
    private volatile bool _stopping;

    public GroupMember(string name, string bootstrap, string group, string topic, ConsumptionLog log)
    {
        Name = name;
        _log = log;
        _consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = group, ClientId = name, EnableAutoCommit = false, AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range,
            SessionTimeoutMs = 6000, HeartbeatIntervalMs = 500, MaxPollIntervalMs = 60_000,
            SocketTimeoutMs = 10_000, ReconnectBackoffMs = 100, ReconnectBackoffMaxMs = 1000,
        })
            .SetPartitionsAssignedHandler((_, partitions) => SetOwned(partitions.Select(p => p.Partition.Value)))
            .SetPartitionsRevokedHandler((_, _) => SetOwned([]))
            .SetPartitionsLostHandler((_, _) => SetOwned([]))
            .SetErrorHandler((_, error) => AddError($"error: {error}"))
            .Build();
        _consumer.Subscribe(topic);
        _thread = new Thread(Run) { Name = $"group-member-{name}", IsBackground = true };
        _thread.Start();
    }

    public string Name { get; }

    public HashSet<int> Owned
    {
        get
        {
            lock (_errors)
            {
                return [.. _owned];
            }
        }
    }

    public List<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    private void SetOwned(IEnumerable<int> partitions)
    {
        lock (_errors)
        {
            _owned = [.. partitions];
        }
    }

    private void AddError(string error)
    {
        lock (_errors)
        {
            _errors.Add(error);
        }
    }

    private void Run()
    {
        while (!_stopping)
        {
            ConsumeResult<Ignore, string>? result;
            try
            {
                result = _consumer.Consume(TimeSpan.FromMilliseconds(200));
            }
            catch (ConsumeException e)
            {
                AddError($"consume: {e.Error}");
                continue;
            }
            if (result is null || result.IsPartitionEOF)
            {
                continue;
            }
            bool acknowledged;
            try
            {
                _consumer.Commit(result);
                acknowledged = true;
            }
            catch (KafkaException e)
            {
                AddError($"commit of {result.TopicPartitionOffset}: {e.Error}");
                acknowledged = false;
            }
            _log.Add(Name, result.Partition.Value, result.Offset.Value, result.Message.Value, acknowledged);
        }
        _consumer.Close();
    }

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        Assert.True(_thread.Join(TimeSpan.FromSeconds(60)), $"{Name} did not stop");
        _consumer.Dispose();
    }
}
