using Confluent.Kafka.Admin;

namespace Eddy.Broker.Tests;

/// <summary>
/// Debian's clients against the in-process node: kcat (librdkafka 2.0 from Debian), python3-confluent-kafka and
/// python3-kafka (kafka-python, which has its own protocol code). .ci/run installs them; each is run as the
/// user would run it, and its own output says whether every message came back.
/// </summary>
public class DebianClientTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    /// <summary>The program's exit code and everything it wrote, standard output then standard error.</summary>
    internal static async Task<(int ExitCode, string Output)> RunAsync(string program, string? stdin, params string[] args)
    {
        var (code, output, error) = await ChildProcess.RunAsync(program, stdin, args);
        return (code, output + error);
    }

    private async Task CreateTopicAsync(string name, int partitions)
    {
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    [Fact]
    public async Task KcatListsProducesAndConsumes()
    {
        await CreateTopicAsync("kcat-topic", 2);
        var (code, output) = await RunAsync("kcat", null, "-b", node.Bootstrap, "-L", "-t", "kcat-topic");
        Assert.True(code == 0, output);
        Assert.Contains("topic \"kcat-topic\" with 2 partitions", output);
        Assert.Contains($"broker {BrokerFixture.NodeId} at 127.0.0.1:{node.Server.Port}", output);

        string lines = string.Join('\n', Enumerable.Range(0, 2000).Select(i => $"line-{i}")) + "\n";
        (code, output) = await RunAsync("kcat", lines, "-b", node.Bootstrap, "-P", "-t", "kcat-topic", "-X", "acks=all");
        Assert.True(code == 0, output);

        (code, output) = await RunAsync("kcat", null, "-b", node.Bootstrap, "-C", "-t", "kcat-topic", "-o", "beginning", "-e", "-q", "-f", "%p %o %s\n");
        Assert.True(code == 0, output);
        var consumed = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList();
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => $"line-{i}").Order(), consumed.Select(c => c[2]).Order());
        foreach (var partition in consumed.GroupBy(c => c[0]))
        {
            Assert.Equal(Enumerable.Range(0, partition.Count()).Select(i => i.ToString()), partition.Select(c => c[1]));
        }
    }

    [Theory]
    [InlineData("confluent_roundtrip.py")]
    [InlineData("kafka_python_roundtrip.py")]
    public async Task PythonClientProducesAndConsumesThousandsOfMessages(string script)
    {
        string topic = "py-" + Path.GetFileNameWithoutExtension(script).Replace('_', '-');
        await CreateTopicAsync(topic, 3);
        var (code, output) = await RunAsync("/usr/bin/python3", null, Path.Combine(AppContext.BaseDirectory, "clients", script), node.Bootstrap, topic, "5000");
        Assert.True(code == 0, output);
        Assert.Contains("ok 5000", output);
    }
}
