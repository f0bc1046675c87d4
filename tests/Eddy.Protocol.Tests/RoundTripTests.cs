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
        Assert.Equal(17, FetchResponse.HighestVersion - 1);
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
