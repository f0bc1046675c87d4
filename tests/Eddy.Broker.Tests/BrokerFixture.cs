using Eddy.Kafka.Server;

namespace Eddy.Broker.Tests;

/// <summary>A whole node in this process (see <see cref="InProcessNode"/>) on a temporary data directory, shared by
/// the tests of one class.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    public const int NodeId = 7;
    public const int MaxRequestBytes = 1024 * 1024;

    private InProcessNode? _node;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"eddy-broker-{Guid.NewGuid():N}");
    public KafkaServer Server => _node!.Server;
    public Cluster.Broker Broker => _node!.Broker;
    public Kafka.KafkaNode Node => _node!.Node;
    public string Bootstrap => $"127.0.0.1:{Server.Port}";

    public async Task InitializeAsync() => _node = await InProcessNode.StartAsync(DataDirectory, NodeId, MaxRequestBytes);

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
