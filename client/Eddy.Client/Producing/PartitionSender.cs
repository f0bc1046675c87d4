using System.Diagnostics;
using Eddy.Errors;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Records;

namespace Eddy.Client.Producing;

/// <summary>
/// One partition's batches: the open batch records are added to, the sealed batches waiting to go, and up to
/// <see cref="ProducerOptions.MaxInFlight"/> sent and unanswered, all to the partition's leader over one connection so
/// that they arrive in order. When a batch fails with an error worth retrying (the leader moved, a connection broke,
/// too few replicas for now), every batch in flight behind it is waited for, and then all of them from the failed one
/// on are sent again one at a time, with their own sequences, until each is answered: an idempotent producer's batch
/// that had been written already is answered DUPLICATE_SEQUENCE_NUMBER and counts as delivered.
/// </summary>
internal sealed class PartitionSender : IAsyncDisposable
{
    private readonly Producer _producer;
    private readonly string _topic;
    private readonly int _partition;
    private readonly int _partitions;
    private readonly Lock _lock = new();
    private readonly RecordBatchBuilder _builder = new();
    private readonly List<(long Token, int Bytes)> _records = new();
    private readonly Queue<Batch> _sealed = new();
    private readonly Queue<(Batch Batch, Task<Outcome> Answer)> _inFlight = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _openedAt;
    private int _nextSequence;
    private bool _flushing;
    private Task? _pendingWake;

    public PartitionSender(Producer producer, string topic, int partition, int partitions)
    {
        _producer = producer;
        _topic = topic;
        _partition = partition;
        _partitions = partitions;
        _builder.ProducerId = producer.ProducerId;
        _builder.ProducerEpoch = producer.ProducerEpoch;
        _loop = Task.Run(RunAsync, CancellationToken.None);
    }

    private ProducerOptions Options => _producer.Options;

    /// <summary>Adds a record to the open batch, sealing it first or after when it is full.</summary>
    public void Append(long timestampMs, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value,
        KeyValuePair<string, byte[]?>[]? headers, long token, int bytes)
    {
        bool sealedOne = false, first;
        lock (_lock)
        {
            if (_builder.Count > 0 && _builder.Size + bytes > Options.BatchBytes)
            {
                Seal();
                sealedOne = true;
            }
            if (_builder.Count == 0)
            {
                _openedAt = Stopwatch.GetTimestamp();
            }
            _builder.Add(timestampMs, key is { } k ? k.Span : default, value is { } v ? v.Span : default,
                keyIsNull: key is null, valueIsNull: value is null, headers: headers);
            _records.Add((token, bytes));
            if (_builder.Size >= Options.BatchBytes)
            {
                Seal();
                sealedOne = true;
            }
            first = _records.Count == 1;
        }
        if (sealedOne || first)
        {
            Wake();
        }
    }

    public void Flush()
    {
        lock (_lock)
        {
            _flushing = true;
        }
        Wake();
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>Closes the open batch (under the lock): its bytes, sequence and records move to the sealed queue.</summary>
    private void Seal()
    {
        if (_producer.ProducerId >= 0)
        {
            _builder.BaseSequence = _nextSequence;
            _nextSequence += _builder.Count;
        }
        var plain = _builder.Finish();
        byte[] bytes = Options.Compression == CompressionType.None
            ? plain.ToArray()
            : Kafka.Protocol.Compressor.CompressBatch(plain.Span, Options.Compression);
        _sealed.Enqueue(new Batch(bytes, [.. _records], Stopwatch.GetTimestamp() + (long)(Options.DeliveryTimeout.TotalSeconds * Stopwatch.Frequency)));
        _records.Clear();
        _builder.Reset();
        _producer.Sealed(_partition, _partitions);
    }

    private async Task RunAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                Batch? next = null;
                TimeSpan wait = Timeout.InfiniteTimeSpan;
                lock (_lock)
                {
                    if (_sealed.Count == 0 && _builder.Count > 0)
                    {
                        var open = Stopwatch.GetElapsedTime(_openedAt);
                        if (open >= Options.Linger || _flushing)
                        {
                            Seal();
                        }
                        else
                        {
                            wait = Options.Linger - open;
                        }
                    }
                    if (_sealed.Count > 0)
                    {
                        next = _sealed.Dequeue();
                    }
                    else if (_builder.Count == 0 && _inFlight.Count == 0)
                    {
                        _flushing = false;
                    }
                }
                if (next is not null)
                {
                    while (_inFlight.Count >= Options.MaxInFlight)
                    {
                        await CompleteOldestAsync();
                    }
                    await StartAsync(next);
                    continue;
                }
                if (_inFlight.Count > 0)
                {
                    // Nothing to send now: take answers as they come, and wake for new records or the linger.
                    await Task.WhenAny(_inFlight.Peek().Answer, WakeAsync(wait));
                    if (_inFlight.Peek().Answer.IsCompleted)
                    {
                        await CompleteOldestAsync();
                    }
                    continue;
                }
                await WakeAsync(wait);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>The wait for the next wake-up, kept across turns of the loop while it has not fired: a turn that ends
    /// on an answer leaves it pending for the next, so wake-ups are never taken by a wait nobody watches.</summary>
    private Task WakeAsync(TimeSpan wait)
    {
        if (_pendingWake is null || _pendingWake.IsCompleted)
        {
            _pendingWake = _wake.WaitAsync(wait, _stop.Token);
        }
        return _pendingWake;
    }

    private async Task StartAsync(Batch batch) => _inFlight.Enqueue((batch, await SendAsync(batch)));

    private async Task CompleteOldestAsync()
    {
        var (batch, answer) = _inFlight.Dequeue();
        if (Settled(batch, await answer))
        {
            return;
        }
        // This batch and every one sent after it go again, in order, one at a time.
        var again = new List<Batch> { batch };
        while (_inFlight.Count > 0)
        {
            var (later, laterAnswer) = _inFlight.Dequeue();
            var laterOutcome = await laterAnswer;
            if (laterOutcome.Error is KafkaErrors.None or KafkaErrors.DuplicateSequenceNumber)
            {
                // Written (possible only without idempotence, or when the failed batch was refused before its sequence
                // counted): reported as it is, as Kafka's clients do.
                Report(later, laterOutcome.Error == KafkaErrors.None ? laterOutcome.BaseOffset : -1, KafkaErrors.None);
            }
            else
            {
                again.Add(later);
            }
        }
        foreach (var retry in again)
        {
            await ResendAsync(retry);
        }
    }

    private async Task ResendAsync(Batch batch)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            await Task.Delay(backoff);
            backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 1000));
            await RefreshLeaderAsync();
            _producer.Retried();
            if (Settled(batch, await await SendAsync(batch)))
            {
                return;
            }
        }
    }

    /// <summary>Reports the batch when its outcome is final: written (an idempotent batch written before counts), or
    /// failed for good (an error not worth retrying, or past its delivery timeout). False when it goes again.</summary>
    private bool Settled(Batch batch, Outcome outcome)
    {
        if (outcome.Error is KafkaErrors.None or KafkaErrors.DuplicateSequenceNumber)
        {
            Report(batch, outcome.Error == KafkaErrors.None ? outcome.BaseOffset : -1, KafkaErrors.None);
            return true;
        }
        if (!Retriable(outcome.Error) || Stopwatch.GetTimestamp() > batch.Deadline)
        {
            Report(batch, -1, outcome.Error);
            return true;
        }
        return false;
    }

    /// <summary>Writes the batch to the partition's leader; the task returned is its answer (a broken connection is
    /// an answer too, <see cref="Outcome.ConnectionLost"/>).</summary>
    private async Task<Task<Outcome>> SendAsync(Batch batch)
    {
        var request = new ProduceRequest
        {
            Acks = Options.Acks,
            TimeoutMs = 30_000,
            TopicData =
            [
                new ProduceRequest.TopicProduceData
                {
                    Name = _topic,
                    PartitionData = [new ProduceRequest.PartitionProduceData { Index = _partition, Records = batch.Bytes }],
                },
            ],
        };
        try
        {
            int leader = await LeaderAsync();
            var connection = await _producer.Client.ConnectionToAsync(leader);
            if (Options.Acks == 0)
            {
                await connection.SendWithoutResponseAsync(request);
                return Task.FromResult(new Outcome(KafkaErrors.None, -1));
            }
            var answer = await connection.WritePipelinedAsync<ProduceResponse>(request);
            return OutcomeOfAsync(answer);
        }
        catch (Exception e) when (e is KafkaConnectionException or KafkaException)
        {
            return Task.FromResult(new Outcome(e is KafkaException k ? k.ErrorCode : Outcome.ConnectionLost, -1));
        }
    }

    private static async Task<Outcome> OutcomeOfAsync(Task<ProduceResponse> answer)
    {
        try
        {
            var response = await answer;
            var part = response.Responses.Single().PartitionResponses.Single();
            return new Outcome(part.ErrorCode, part.BaseOffset);
        }
        catch (KafkaConnectionException)
        {
            return new Outcome(Outcome.ConnectionLost, -1);
        }
    }

    private async Task<int> LeaderAsync()
    {
        var known = _producer.Client.Known;
        if (known is not null && known.Topics.TryGetValue(_topic, out var topic) && _partition < topic.Partitions.Count
            && topic.Partitions[_partition].Leader >= 0 && known.Broker(topic.Partitions[_partition].Leader) is not null)
        {
            return topic.Partitions[_partition].Leader;
        }
        await RefreshLeaderAsync();
        known = _producer.Client.Known!;
        int leader = known.Topics.TryGetValue(_topic, out topic) && _partition < topic.Partitions.Count ? topic.Partitions[_partition].Leader : -1;
        return leader >= 0 ? leader : throw KafkaException.For($"{_topic}/{_partition}", KafkaErrors.LeaderNotAvailable);
    }

    private async Task RefreshLeaderAsync()
    {
        try
        {
            await _producer.Client.MetadataAsync([_topic]);
        }
        catch (Exception e) when (e is KafkaConnectionException or KafkaException)
        {
            // No broker answers for now; the send that follows fails and is retried.
        }
    }

    private static bool Retriable(short error) => KafkaErrors.IsRetriable(error) || error == KafkaErrors.OutOfOrderSequenceNumber;

    private void Report(Batch batch, long baseOffset, short error)
    {
        for (int i = 0; i < batch.Records.Length; i++)
        {
            var (token, bytes) = batch.Records[i];
            _producer.Delivered(token, _partition, error == KafkaErrors.None && baseOffset >= 0 ? baseOffset + i : -1, error, bytes);
        }
        _producer.RoomMade();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop;
    }

    private sealed record Batch(byte[] Bytes, (long Token, int Bytes)[] Records, long Deadline);

    private readonly record struct Outcome(short Error, long BaseOffset)
    {
        /// <summary>The connection broke before the answer came: Kafka's clients report it as NETWORK_EXCEPTION.</summary>
        public const short ConnectionLost = KafkaErrors.NetworkException;
    }
}
