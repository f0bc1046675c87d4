using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Records;

namespace Eddy.Client.Consuming;

/// <summary>A record as a <see cref="Fetcher"/> hands it over, valid only during the call.</summary>
public delegate void RecordVisitor(string topic, int partition, in Record record);

/// <summary>
/// Reads assigned partitions from their positions: each round sends one Fetch to each leader for the partitions it
/// leads, checks every batch's CRC, hands each record at or past the position to the visitor (control batches and the
/// records of a batch before the position are skipped) and moves the positions on. Read committed is not offered:
/// records are read up to the high watermark.
/// </summary>
public sealed class Fetcher(KafkaClient client)
{
    private readonly Dictionary<(string Topic, int Partition), long> _positions = new();
    private readonly Dictionary<(string Topic, int Partition), long> _highWatermarks = new();

    /// <summary>How long a leader may hold a Fetch while it has nothing new. Default: 500 ms.</summary>
    public int MaxWaitMs { get; init; } = 500;

    /// <summary>The most bytes one partition answers with in one round. Default: 8 MiB.</summary>
    public int PartitionMaxBytes { get; init; } = 8 << 20;

    public IReadOnlyDictionary<(string Topic, int Partition), long> Positions => _positions;

    public void Assign(string topic, int partition, long offset) => _positions[(topic, partition)] = offset;

    /// <summary>The high watermark the last answer for the partition carried, or -1.</summary>
    public long HighWatermark(string topic, int partition) => _highWatermarks.GetValueOrDefault((topic, partition), -1);

    /// <summary>One round over every assigned partition; returns the records handed to <paramref name="visit"/>.</summary>
    public async Task<int> FetchAsync(RecordVisitor visit, CancellationToken cancel = default)
    {
        var topics = _positions.Keys.Select(k => k.Topic).Distinct().ToList();
        var metadata = client.Known is { } known && topics.All(known.Topics.ContainsKey) ? known : await client.MetadataAsync(topics, cancel);
        var byLeader = _positions.Keys.GroupBy(k => LeaderOf(metadata, k.Topic, k.Partition)).ToList();
        int visited = 0;
        bool stale = false;
        var rounds = byLeader.Where(g => g.Key >= 0).Select(g => FetchFromAsync(g.Key, [.. g], cancel)).ToList();
        stale |= byLeader.Any(g => g.Key < 0);
        foreach (var round in rounds)
        {
            FetchResponse response;
            try
            {
                response = await round;
            }
            catch (KafkaConnectionException)
            {
                stale = true;
                continue;
            }
            KafkaException.ThrowIfError("fetch", response.ErrorCode);
            foreach (var topic in response.Responses)
            {
                foreach (var part in topic.Partitions)
                {
                    var key = (topic.Topic, part.PartitionIndex);
                    if (part.ErrorCode != KafkaErrors.None)
                    {
                        if (!KafkaErrors.IsRetriable(part.ErrorCode))
                        {
                            throw KafkaException.For($"fetch {topic.Topic}/{part.PartitionIndex} at offset {_positions[key]}", part.ErrorCode);
                        }
                        stale = true;
                        continue;
                    }
                    _highWatermarks[key] = part.HighWatermark;
                    if (part.Records is { } records)
                    {
                        visited += Visit(topic.Topic, part.PartitionIndex, records.Span, visit);
                    }
                }
            }
        }
        if (stale)
        {
            await Task.Delay(100, cancel);
            await client.MetadataAsync(topics, cancel);
        }
        return visited;
    }

    private Task<FetchResponse> FetchFromAsync(int leader, List<(string Topic, int Partition)> partitions, CancellationToken cancel)
    {
        var request = new FetchRequest
        {
            ReplicaId = -1,
            MaxWaitMs = MaxWaitMs,
            MinBytes = 1,
            MaxBytes = 64 << 20,
            SessionEpoch = -1,
            Topics = partitions.GroupBy(p => p.Topic).Select(t => new FetchRequest.FetchTopic
            {
                Topic = t.Key,
                Partitions = t.Select(p => new FetchRequest.FetchPartition
                {
                    Partition = p.Partition, FetchOffset = _positions[p], PartitionMaxBytes = PartitionMaxBytes,
                }).ToList(),
            }).ToList(),
        };
        return client.CallAsync<FetchResponse>(leader, request, cancel);
    }

    private int Visit(string topic, int partition, ReadOnlySpan<byte> batches, RecordVisitor visit)
    {
        var key = (topic, partition);
        long position = _positions[key];
        int visited = 0;
        int at = 0;
        while (at < batches.Length)
        {
            var check = RecordBatch.Check(batches[at..], verifyCrc: true, out int size);
            if (check == BatchCheck.Incomplete)
            {
                break; // the answer's byte limit cut it: the next round reads it whole
            }
            if (check != BatchCheck.Ok)
            {
                throw new InvalidDataException($"{topic}/{partition}: the batch at offset {new RecordBatch(batches[at..]).BaseOffset} fails its check ({check})");
            }
            var batch = new RecordBatch(batches.Slice(at, size));
            at += size;
            if (batch.LastOffset < position)
            {
                continue;
            }
            if ((batch.Attributes & RecordBatch.ControlFlag) == 0)
            {
                using var payload = RecordsPayload.Open(batch);
                var records = payload.ReadRecords();
                while (records.TryNext(out var record))
                {
                    if (record.Offset >= position)
                    {
                        visit(topic, partition, record);
                        visited++;
                    }
                }
                if (records.Malformed)
                {
                    throw new InvalidDataException($"{topic}/{partition}: the batch at offset {batch.BaseOffset} holds a malformed record");
                }
            }
            position = batch.LastOffset + 1;
        }
        _positions[key] = position;
        return visited;
    }

    private static int LeaderOf(ClusterMetadata metadata, string topic, int partition) =>
        metadata.Topics.TryGetValue(topic, out var t) && partition < t.Partitions.Count ? t.Partitions[partition].Leader : -1;

    /// <summary>The offset for <paramref name="timestamp"/> in one partition: -2 the log's start, -1 its end (the high
    /// watermark), otherwise the first record at or after that time in ms (the end when there is none).</summary>
    public static async Task<long> OffsetForAsync(KafkaClient client, string topic, int partition, long timestamp, CancellationToken cancel = default)
    {
        return await client.RetryAsync(async c =>
        {
            var metadata = client.Known is { } known && known.Topics.ContainsKey(topic) ? known : await client.MetadataAsync([topic], c);
            int leader = LeaderOf(metadata, topic, partition);
            if (leader < 0)
            {
                throw KafkaException.For($"{topic}/{partition}", metadata.Topics.ContainsKey(topic) ? KafkaErrors.LeaderNotAvailable : KafkaErrors.UnknownTopicOrPartition);
            }
            var answer = await client.CallAsync<ListOffsetsResponse>(leader, new ListOffsetsRequest
            {
                ReplicaId = -1,
                Topics = [new ListOffsetsRequest.ListOffsetsTopic { Name = topic, Partitions = [new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = partition, Timestamp = timestamp }] }],
            }, c);
            var part = answer.Topics.Single().Partitions.Single();
            KafkaException.ThrowIfError($"list offsets of {topic}/{partition}", part.ErrorCode);
            return part.Offset >= 0 ? part.Offset : await OffsetForAsync(client, topic, partition, -1, c);
        }, TimeSpan.FromSeconds(30), cancel);
    }
}
