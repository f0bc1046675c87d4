using System.Text;
using Confluent.Kafka;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Protocol.Tests;

/// <summary>
/// Points the real Confluent.Kafka client (its bundled librdkafka) at <see cref="FakeBroker"/> and
/// decodes what it sends. The frames are kept under Data/ (set EDDY_RECAPTURE=1 to rewrite them) and
/// <see cref="CapturedFrameTests"/> decodes those files without a network.
/// </summary>
public class ConfluentCaptureTests
{
    private static readonly string[] Codecs = ["lz4", "gzip", "snappy", "zstd"];

    [Fact]
    public async Task RealClientFramesDecode()
    {
        // BundledLibrdkafka points Confluent.Kafka at the copy in runtimes/linux-x64/native from librdkafka.redist.
        // (Library.Load(path) is no help here: it dlopens "libdl", which Debian 12 only ships as libdl.so.2.) The
        // version check catches a system copy.
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "librdkafka.so")));
        Assert.StartsWith("2.16", Library.VersionString);
        using var broker = new FakeBroker();
        string bootstrap = $"127.0.0.1:{broker.Port}";

        foreach (var codec in Codecs)
        {
            var config = new ProducerConfig
            {
                BootstrapServers = bootstrap, ClientId = "eddy-capture", LingerMs = 5, Acks = Acks.Leader,
                CompressionType = Enum.Parse<Confluent.Kafka.CompressionType>(codec, ignoreCase: true), MessageTimeoutMs = 10000,
            };
            using var producer = new ProducerBuilder<string, string>(config).Build();
            var sends = Enumerable.Range(0, 3).Select(i => producer.ProduceAsync("t", new Message<string, string>
            {
                Key = $"key-{i}", Value = string.Concat(Enumerable.Repeat($"{codec} value {i} ", 20)),
                Headers = [new Header("trace", Encoding.UTF8.GetBytes("h" + i))],
            })).ToList();
            var results = await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.All(results, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
        }

        // A consumer with a fixed assignment fetches; it must get back the batches we stored.
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "g-fetch", EnableAutoCommit = false, ClientId = "eddy-capture",
        }).Build())
        {
            consumer.Assign(new TopicPartitionOffset("t", 0, 0));
            var first = consumer.Consume(TimeSpan.FromSeconds(15));
            Assert.NotNull(first);
            Assert.Equal("key-0", first.Message.Key);
            Assert.StartsWith("lz4 value 0", first.Message.Value);
            consumer.Close();
        }

        // A subscribing consumer joins a group: capture its first JoinGroup.
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "g-join", ClientId = "eddy-capture", SessionTimeoutMs = 10000,
        }).Build())
        {
            consumer.Subscribe("t");
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (DateTime.UtcNow < deadline && !broker.Requests.Any(r => r.Key == JoinGroupRequest.ApiKeyValue))
                consumer.Consume(TimeSpan.FromMilliseconds(100));
        }

        var frames = broker.Requests.ToList();
        byte[] First(short key) => frames.First(f => f.Key == key).Frame;
        var captured = new Dictionary<string, byte[]>
        {
            ["apiversions"] = First(ApiVersionsRequest.ApiKeyValue),
            ["metadata"] = First(MetadataRequest.ApiKeyValue),
            ["fetch"] = First(FetchRequest.ApiKeyValue),
            ["joingroup"] = First(JoinGroupRequest.ApiKeyValue),
        };
        var produces = frames.Where(f => f.Key == ProduceRequest.ApiKeyValue).Select(f => f.Frame).ToList();
        foreach (var codec in Codecs)
            captured["produce-" + codec] = produces.First(p => CapturedFrameTests.ProduceCodec(p) == codec);

        foreach (var (name, frame) in captured) CapturedFrameTests.AssertDecodes(name, frame);

        if (Environment.GetEnvironmentVariable("EDDY_RECAPTURE") == "1")
        {
            string dir = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Data");
            foreach (var (name, frame) in captured) File.WriteAllBytes(Path.Combine(dir, name + ".bin"), frame);
        }
    }
}
