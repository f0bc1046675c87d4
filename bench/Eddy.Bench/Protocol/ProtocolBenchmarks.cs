using BenchmarkDotNet.Attributes;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Kafka.Server;
using Eddy.Records;
using Eddy.Hashing;

namespace Eddy.Bench.Protocol;

/// <summary>
/// Kafka codec hot paths (issue 3): decoding Produce requests down to every record, encoding a Fetch
/// response from stored batches, and CRC32C throughput. Run with
/// <c>dotnet run -c Release --project bench/Eddy.Bench -- --filter '*ProtocolBenchmarks*' --job short --memory --inProcess</c>.
/// </summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks : IDisposable
{
    private byte[] _produceOneBatch = [];
    private byte[] _produceOneBatch1000 = [];
    private byte[] _copyTarget = [];
    private byte[] _produce100Partitions = [];
    private byte[] _batch100 = [];
    private byte[] _crcData = [];
    private FetchResponse _fetch = new();
    private readonly KafkaWriter _out = new(1 << 20);

    [GlobalSetup]
    public void Setup()
    {
        _batch100 = Batch(100, 1024);
        _produceOneBatch = Frame(Produce(1, _batch100));
        _produceOneBatch1000 = Frame(Produce(1, Batch(1000, 1024)));
        _produce100Partitions = Frame(Produce(100, Batch(10, 100)));
        _crcData = new byte[1 << 20];
        new Random(1).NextBytes(_crcData);
        _copyTarget = new byte[_crcData.Length];
        // A Fetch response for 100 partitions, each returning one stored ~10 KiB batch.
        var stored = Batch(10, 1024);
        var topic = new FetchResponse.FetchableTopicResponse { Topic = "bench" };
        for (int p = 0; p < 100; p++)
            topic.Partitions.Add(new FetchResponse.PartitionData { PartitionIndex = p, HighWatermark = 1000, LastStableOffset = 1000, Records = stored });
        _fetch = new FetchResponse { Responses = [topic] };
    }

    private static byte[] Batch(int records, int valueSize)
    {
        var b = new RecordBatchBuilder { ProducerId = 1, ProducerEpoch = 0, BaseSequence = 0 };
        var value = new byte[valueSize];
        new Random(records).NextBytes(value);
        for (int i = 0; i < records; i++) b.Add(1_700_000_000_000 + i, BitConverter.GetBytes(i), value);
        return b.Finish().ToArray();
    }

    private static ProduceRequest Produce(int partitions, byte[] batch)
    {
        var topic = new ProduceRequest.TopicProduceData { Name = "bench" };
        for (int p = 0; p < partitions; p++) topic.PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = p, Records = batch });
        return new ProduceRequest { Acks = -1, TimeoutMs = 30000, TopicData = [topic] };
    }

    private static byte[] Frame(ProduceRequest body)
    {
        using var w = new KafkaWriter();
        KafkaFrames.WriteRequest(w, new RequestHeader { RequestApiKey = 0, RequestApiVersion = 9, CorrelationId = 1, ClientId = "bench" }, body);
        return w.WrittenSpan[4..].ToArray();
    }

    /// <summary>Decode the frame, validate every batch as Produce does (CRC included), and walk every record.</summary>
    private static long DecodeAndIterate(byte[] frame)
    {
        var request = KafkaFrames.DecodeRequest(frame);
        long sum = 0;
        foreach (var topic in ((ProduceRequest)request.Body).TopicData)
            foreach (var part in topic.PartitionData)
            {
                if (ProduceValidation.Check(part.Records, int.MaxValue, out string? error) != KafkaErrors.None) throw new InvalidDataException(error);
                using var records = RecordsPayload.Open(new RecordBatch(part.Records!.Value.Span));
                var reader = records.ReadRecords();
                while (reader.TryNext(out var r)) sum += r.Value.Length + r.Offset;
            }
        return sum;
    }

    [Benchmark(Description = "Decode Produce: 1 partition, 1 batch of 100 x 1 KiB")]
    public long DecodeProduceOneBatch() => DecodeAndIterate(_produceOneBatch);

    /// <summary>Same as above with 10x the records: equal allocation shows nothing is allocated per record.</summary>
    [Benchmark(Description = "Decode Produce: 1 partition, 1 batch of 1000 x 1 KiB")]
    public long DecodeProduceOneBatch1000() => DecodeAndIterate(_produceOneBatch1000);

    [Benchmark(Description = "Decode Produce: 100 partitions, 1 batch each (10 x 100 B)")]
    public long DecodeProduce100Partitions() => DecodeAndIterate(_produce100Partitions);

    [Benchmark(Description = "Iterate 100 records of a parsed batch (no decode)")]
    public long IterateRecords()
    {
        long sum = 0;
        using var records = RecordsPayload.Open(new RecordBatch(_batch100));
        var reader = records.ReadRecords();
        while (reader.TryNext(out var r)) sum += r.Value.Length;
        return sum;
    }

    [Benchmark(Description = "Encode Fetch response v12: 100 partitions x 10 KiB stored batch")]
    public int EncodeFetch()
    {
        _out.Reset();
        KafkaFrames.WriteResponse(_out, 7, 12, _fetch);
        return _out.Length;
    }

    [GlobalCleanup]
    public void Dispose() => _out.Dispose();

    [Benchmark(Description = "CRC32C over 1 MiB")]
    public uint Crc32C1MiB() => Crc32C.Compute(_crcData);

    /// <summary>The machine's limit for CRC and Fetch encoding: a plain 1 MiB memory copy.</summary>
    [Benchmark(Description = "Baseline: copy 1 MiB (memcpy)")]
    public int Copy1MiB()
    {
        _crcData.AsSpan().CopyTo(_copyTarget);
        return _copyTarget[^1];
    }

    [Benchmark(Description = "CRC32C over a 100 KiB batch")]
    public uint Crc32CBatch() => Crc32C.Compute(_batch100);
}
