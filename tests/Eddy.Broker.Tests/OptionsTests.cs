using Eddy.Cluster;
using Eddy.Config;
using Eddy.Kafka.Server;

namespace Eddy.Broker.Tests;

/// <summary>`eddy start` flags reach the Kafka server's options.</summary>
public class OptionsTests
{
    [Fact]
    public void FlagsSetTheServerOptions()
    {
        var config = NodeArguments.Parse(["--node-id", "4", "--kafka-addr", "127.0.0.1:0", "--advertise-kafka-addr", "broker.example:19092", "--kafka-max-request-bytes", "2048",
            "--rpc-addr", "127.0.0.1:33146", "--advertise-rpc-addr", "node4.example:33146", "--seeds", "a:1,b:2", "--rack", "r1"]);
        var options = KafkaServerOptions.FromConfig(config);
        Assert.Equal(("broker.example", 19092, 2048), (options.AdvertisedHost, options.AdvertisedPort, options.MaxRequestBytes));
        Assert.Equal(0, config.KafkaAddress.Port);
        // The node id is the cluster's to settle (the controller options carry the one asked for); the server takes it then.
        var controller = Cluster.BrokerOptions.FromConfig(config).Controller;
        Assert.Equal((4, "127.0.0.1:33146", "node4.example:33146", "a:1,b:2", "r1"),
            (controller.NodeId, controller.RpcAddress.ToString(), controller.AdvertisedRpcAddress, string.Join(',', controller.Seeds), controller.Rack));
        Assert.Equal(4, options.ForNode(4).NodeId);
    }

    [Fact]
    public void DefaultsAreKafkas()
    {
        var options = KafkaServerOptions.FromConfig(NodeArguments.Parse([]));
        Assert.Equal((0, null, 0, 100 * 1024 * 1024), (options.NodeId, options.AdvertisedHost, options.AdvertisedPort, options.MaxRequestBytes));
    }

    [Theory]
    [InlineData("bad/name", false)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("", false)]
    [InlineData("a..b", true)]
    [InlineData("Orders_2024-v1.x", true)]
    public void TopicNameRule(string name, bool valid) => Assert.Equal(valid, TopicNames.IsValid(name));
}
