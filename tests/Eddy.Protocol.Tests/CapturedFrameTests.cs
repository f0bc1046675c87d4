using System.Text;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Records;

namespace Eddy.Protocol.Tests;

/// <summary>Decodes the request frames captured from Confluent.Kafka 2.16 (Data/*.bin, without the size prefix).</summary>
public class CapturedFrameTests
{
    public static string[] FileNames() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Data"), "*.bin").Select(f => Path.GetFileNameWithoutExtension(f)!).Order().ToArray();

    public static TheoryData<string> Files() => new(FileNames());

    [Theory]
    [MemberData(nameof(Files))]
    public void StoredFrameDecodes(string name) =>
        AssertDecodes(name, File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Data", name + ".bin")));

    [Fact]
    public void AllFiveRequestKindsAreKept() =>
        Assert.Equal<string>(["apiversions", "fetch", "joingroup", "metadata", "produce-gzip", "produce-lz4", "produce-snappy", "produce-zstd"],
            FileNames());

    private static readonly string[] Assignors = ["range", "roundrobin", "cooperative-sticky"];

    internal static string ProduceCodec(byte[] frame)
    {
        var req = (ProduceRequest)KafkaFrames.DecodeRequest(frame).Body;
        var records = req.TopicData[0].PartitionData[0].Records!.Value;
        return new RecordBatch(records.Span).Compression.ToString().ToLowerInvariant();
    }

    internal static void AssertDecodes(string name, byte[] frame)
    {
        var request = KafkaFrames.DecodeRequest(frame);
        var h = request.Header;
        Assert.Equal("eddy-capture", h.ClientId);
        // Re-encoding the decoded request gives back the client's exact bytes.
        using (var w = new KafkaWriter())
        {
            KafkaFrames.WriteRequest(w, h, request.Body);
            Assert.Equal(frame, w.WrittenSpan[4..].ToArray());
        }
        switch (request.Body)
        {
            case ApiVersionsRequest av:
                Assert.Equal("apiversions", name);
                Assert.True(h.RequestApiVersion >= 3);
                Assert.Equal("confluent-kafka-dotnet", av.ClientSoftwareName);
                Assert.StartsWith("2.16", av.ClientSoftwareVersion);
                break;
            case MetadataRequest md:
                Assert.Equal("metadata", name);
                Assert.Equal(12, h.RequestApiVersion);
                Assert.True(md.Topics is null || md.Topics.Count <= 1);
                break;
            case ProduceRequest p:
                Assert.StartsWith("produce-", name);
                Assert.Equal(10, h.RequestApiVersion);
                Assert.Equal(1, p.Acks);
                Assert.Null(p.TransactionalId);
                var part = Assert.Single(Assert.Single(p.TopicData, t => t.Name == "t").PartitionData);
                Assert.Equal(0, part.Index);
                Assert.Equal(BatchCheck.Ok, RecordBatch.Check(part.Records!.Value.Span, verifyCrc: true, out int size));
                Assert.Equal(part.Records.Value.Length, size);
                var batch = new RecordBatch(part.Records.Value.Span);
                Assert.Equal(name["produce-".Length..], batch.Compression.ToString().ToLowerInvariant());
                Assert.Equal(-1, batch.ProducerId);
                Assert.Equal(batch.RecordCount - 1, batch.LastOffsetDelta);
                using (var records = RecordsPayload.Open(batch))
                {
                    int i = 0;
                    var reader = records.ReadRecords();
                    while (reader.TryNext(out var rec))
                    {
                        Assert.Equal($"key-{i}", Encoding.UTF8.GetString(rec.Key));
                        Assert.StartsWith($"{batch.Compression.ToString().ToLowerInvariant()} value {i} ", Encoding.UTF8.GetString(rec.Value));
                        foreach (var header in rec.Headers)
                        {
                            Assert.Equal("trace", Encoding.UTF8.GetString(header.Key));
                            Assert.Equal("h" + i, Encoding.UTF8.GetString(header.Value));
                        }
                        i++;
                    }
                    Assert.False(reader.Malformed);
                    Assert.Equal(batch.RecordCount, i);
                    Assert.True(i >= 1);
                }
                break;
            case FetchRequest f:
                Assert.Equal("fetch", name);
                Assert.Equal(12, h.RequestApiVersion);
                Assert.Equal(-1, f.ReplicaId);
                var fp = Assert.Single(Assert.Single(f.Topics, t => t.Topic == "t").Partitions);
                Assert.Equal(0, fp.Partition);
                Assert.Equal(0, fp.FetchOffset);
                Assert.True(f.MaxWaitMs > 0);
                break;
            case JoinGroupRequest j:
                Assert.Equal("joingroup", name);
                Assert.Equal("g-join", j.GroupId);
                Assert.Equal("consumer", j.ProtocolType);
                Assert.Equal("", j.MemberId);
                Assert.Equal(10000, j.SessionTimeoutMs);
                var protocol = j.Protocols.First();
                Assert.Contains(protocol.Name, Assignors);
                // The metadata is a ConsumerProtocolSubscription: int16 version, then the body.
                var r = new KafkaReader(protocol.Metadata);
                short version = r.ReadInt16();
                var sub = new ConsumerProtocolSubscription();
                sub.Read(ref r, Math.Min(version, ConsumerProtocolSubscription.HighestVersion));
                Assert.Contains("t", sub.Topics);
                break;
            default:
                Assert.Fail($"{name}: unexpected {request.Body.GetType().Name}");
                break;
        }
    }
}
