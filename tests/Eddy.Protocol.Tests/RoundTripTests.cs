using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Protocol.Tests;

public class RoundTripTests
{
    public static IEnumerable<string> MessageNames()
    {
        foreach (var api in KafkaApis.All)
        {
            yield return KafkaApis.CreateRequest(api.Key)!.GetType().Name;
            yield return KafkaApis.CreateResponse(api.Key)!.GetType().Name;
        }
        foreach (var m in KafkaApis.CreateOthers()) yield return m.GetType().Name;
    }

    public static TheoryData<string> AllMessages() => new(MessageNames());

    private static IKafkaMessage Create(string name) =>
        (IKafkaMessage)Activator.CreateInstance(typeof(KafkaApis).Assembly.GetType("Eddy.Kafka.Protocol.Messages." + name)!)!;

    [Theory]
    [MemberData(nameof(AllMessages))]
    public void EveryVersionRoundTripsWithEveryFieldSet(string name)
    {
        var proto = Create(name);
        for (short v = proto.LowestSupportedVersion; v <= proto.HighestSupportedVersion; v++)
        {
            for (int seed = 0; seed < 4; seed++)
            {
                var original = Create(name);
                RandomMessages.Fill(original, v, new Random(HashCode.Combine(name.Length, name[0], v, seed)), v >= proto.FlexibleFrom);
                using var w = new KafkaWriter();
                original.Write(w, v);
                byte[] bytes = w.ToArray();

                var decoded = Create(name);
                var r = new KafkaReader(bytes);
                decoded.Read(ref r, v);
                Assert.True(r.IsAtEnd, $"{name} v{v}: {r.Remaining} bytes left over");
                Assert.True(original.Equals(decoded), $"{name} v{v} seed {seed}: decoded value differs");

                using var w2 = new KafkaWriter();
                decoded.Write(w2, v);
                Assert.Equal(bytes, w2.ToArray());
            }
        }
    }

    [Fact]
    public void EveryApiKeyFrom0To87IsCovered()
    {
        Assert.Equal(88, KafkaApis.All.Length);
        for (short k = 0; k < 88; k++) Assert.True(KafkaApis.TryGet(k, out _), $"key {k}");
        Assert.Equal(13, ProduceRequest.HighestVersion);
        Assert.Equal(0, ProduceRequest.LowestVersion);
        Assert.Equal(18, FetchRequest.HighestVersion);
        Assert.Equal(13, MetadataRequest.HighestVersion);
        Assert.Equal(1, ConsumerGroupHeartbeatRequest.HighestVersion);
        Assert.Equal(18, FetchResponse.HighestVersion);
    }

    [Fact]
    public void HeaderVersionsFollowFlexibilityWithTheKafkaExceptions()
    {
        Assert.Equal(1, KafkaApis.RequestHeaderVersion(0, 8));   // Produce v8: not flexible
        Assert.Equal(2, KafkaApis.RequestHeaderVersion(0, 9));   // Produce v9: flexible
        Assert.Equal(0, KafkaApis.RequestHeaderVersion(7, 0));   // ControlledShutdown v0: header v0
        Assert.Equal(1, KafkaApis.RequestHeaderVersion(7, 1));
        Assert.Equal(0, KafkaApis.ResponseHeaderVersion(0, 8));
        Assert.Equal(1, KafkaApis.ResponseHeaderVersion(0, 9));
        Assert.Equal(0, KafkaApis.ResponseHeaderVersion(18, 3)); // ApiVersions: always v0
        Assert.Equal(0, KafkaApis.ResponseHeaderVersion(18, 4));

        // ApiVersions v3 response: no tag buffer after the correlation id, but a flexible body.
        using var w = new KafkaWriter();
        KafkaFrames.WriteResponse(w, 77, 3, new ApiVersionsResponse { ApiKeys = [new ApiVersionsResponse.ApiVersion { ApiKey = 18, MaxVersion = 4 }] });
        Assert.Equal(new byte[] { 0, 0, 0, 77, 0, 0, 2, 0, 18, 0, 0, 0, 4, 0 }, w.WrittenSpan[4..18].ToArray());
        var back = (ApiVersionsResponse)KafkaFrames.DecodeResponse(w.WrittenMemory[4..], 18, 3, out int correlation);
        Assert.Equal(77, correlation);
        Assert.Equal(4, back.ApiKeys[0].MaxVersion);

        // Request header v2 keeps ClientId as an int16-length string.
        using var rq = new KafkaWriter();
        new RequestHeader { RequestApiKey = 18, RequestApiVersion = 3, CorrelationId = 1, ClientId = "ab" }.Write(rq, 2);
        Assert.Equal(new byte[] { 0, 18, 0, 3, 0, 0, 0, 1, 0, 2, (byte)'a', (byte)'b', 0 }, rq.ToArray());
    }

    [Fact]
    public void UnsupportedVersionsAndKeysAreProtocolErrorsWithCode35()
    {
        using var w = new KafkaWriter();
        Assert.Equal(35, Assert.Throws<KafkaProtocolException>(() => new MetadataRequest().Write(w, 14)).ErrorCode);
        // Header v1 frames: key 200 (unknown), then Metadata v99 (unknown version); ClientId null.
        Assert.Equal(35, Assert.Throws<KafkaProtocolException>(() => KafkaFrames.DecodeRequest(new byte[] { 0, 200, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF })).ErrorCode);
        Assert.Equal(35, Assert.Throws<KafkaProtocolException>(() => KafkaFrames.DecodeRequest(new byte[] { 0, 3, 0, 99, 0, 0, 0, 1, 0xFF, 0xFF })).ErrorCode);
    }

    [Fact]
    public void UnknownTaggedFieldsAreKeptInTagOrderAroundKnownOnes()
    {
        // FetchResponse partitions at v12+ know tags 0-2; an unknown tag 5 must come back and be written after them.
        var p = new FetchResponse.PartitionData
        {
            PartitionIndex = 3,
            CurrentLeader = new FetchResponse.LeaderIdAndEpoch { LeaderId = 7, LeaderEpoch = 9 },
            Records = new byte[] { 1, 2, 3 },
            UnknownTaggedFields = [new RawTaggedField(5, [0xAA, 0xBB])],
        };
        var resp = new FetchResponse { Responses = [new FetchResponse.FetchableTopicResponse { Topic = "t", Partitions = [p] }] };
        using var w = new KafkaWriter();
        resp.Write(w, 12);
        var back = new FetchResponse();
        var r = new KafkaReader(w.WrittenMemory);
        back.Read(ref r, 12);
        var q = back.Responses[0].Partitions[0];
        Assert.Equal(7, q.CurrentLeader.LeaderId);
        Assert.Equal(5, Assert.Single(q.UnknownTaggedFields!).Tag);
        Assert.Equal(new byte[] { 0xAA, 0xBB }, q.UnknownTaggedFields![0].Data);
        Assert.Equal(resp, back);
    }

    [Fact]
    public void TaggedFieldLongerThan127BytesGetsAWiderSize()
    {
        var req = new FetchRequest { ClusterId = new string('c', 300), ReplicaState = new FetchRequest.ReplicaStateData { ReplicaId = 1, ReplicaEpoch = 2 } };
        using var w = new KafkaWriter();
        req.Write(w, 15);
        var back = new FetchRequest();
        var r = new KafkaReader(w.WrittenMemory);
        back.Read(ref r, 15);
        Assert.Equal(req, back);
    }

    [Fact]
    public void SettingAFieldTheVersionLacksIsRefused()
    {
        var req = new ProduceRequest { TransactionalId = "tx" }; // TransactionalId exists from v3
        using var w = new KafkaWriter();
        var ex = Assert.Throws<KafkaProtocolException>(() => req.Write(w, 2));
        Assert.Contains("TransactionalId", ex.Message);
    }
}

public class RandomFillSanityTests
{
    [Fact]
    public void RandomProduceRequestCarriesRecordsAndTopics()
    {
        int withRecords = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var m = new ProduceRequest();
            RandomMessages.Fill(m, 9, new Random(seed), true);
            using var w = new KafkaWriter();
            m.Write(w, 9);
            if (m.TopicData.Any(t => t.PartitionData.Any(p => p.Records is { Length: > 0 }))) withRecords++;
            Assert.True(w.Length > 10);
        }
        Assert.True(withRecords > 5);
    }
}
