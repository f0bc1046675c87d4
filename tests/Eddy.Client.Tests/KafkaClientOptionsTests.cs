namespace Eddy.Client.Tests;

/// <summary>Bootstrap addresses as the CLI takes them from --brokers or EDDY_BROKERS.</summary>
public sealed class KafkaClientOptionsTests
{
    [Fact]
    public void EachAddressIsHostAndPort()
    {
        var endpoints = new KafkaClientOptions { Bootstrap = " 10.0.0.1:9092, broker2:19092 ,[::1]:9093" }.BootstrapEndpoints();
        Assert.Equal([("10.0.0.1", 9092), ("broker2", 19092), ("::1", 9093)], endpoints);
        Assert.Equal([("127.0.0.1", 9092)], new KafkaClientOptions().BootstrapEndpoints());
    }

    [Theory]
    [InlineData("broker")]
    [InlineData("broker:")]
    [InlineData("broker:0")]
    [InlineData("broker:65536")]
    [InlineData(":9092")]
    [InlineData(" , ")]
    public void ABadAddressIsNamed(string bootstrap)
    {
        var error = Assert.Throws<ArgumentException>(() => new KafkaClientOptions { Bootstrap = bootstrap }.BootstrapEndpoints());
        Assert.True(error.Message.Contains(bootstrap.Trim(' ', ','), StringComparison.Ordinal) || error.Message == "no broker address given", error.Message);
    }
}
