using System.Net;
using System.Text.Json;
using Eddy.Admin;
using Eddy.Config;
using Eddy.Runtime;

namespace Eddy.Broker.Tests;

/// <summary>The admin API before the node serves and after it began to stop: ready says 503 with why, and the
/// endpoints that need the node say 503 rather than answer from nothing.</summary>
public sealed class AdminReadinessTests
{
    [Fact]
    public async Task BeforeTheNodeIsHandedOverAndOnceItStopsReadyAndEveryNodeEndpointSay503()
    {
        var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1 });
        try
        {
            await using var admin = await AdminServer.StartAsync(group, new IPEndPoint(IPAddress.Loopback, 0), new NodeConfig(), "0.0.0-test");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            foreach (string path in new[] { "/v1/status/ready", "/v1/node_config", "/v1/brokers", "/v1/brokers/1", "/v1/partitions",
                "/v1/partitions/kafka/t/0", "/v1/cluster/health_overview" })
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{admin.Port}{path}");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                if (path == "/v1/status/ready")
                {
                    Assert.Equal("booting", body.RootElement.GetProperty("status").GetString());
                }
                else
                {
                    Assert.Equal(503, body.RootElement.GetProperty("code").GetInt32());
                }
            }
            admin.Stopping();
            using var stopping = await http.GetAsync($"http://127.0.0.1:{admin.Port}/v1/status/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stopping.StatusCode);
            using var said = JsonDocument.Parse(await stopping.Content.ReadAsStringAsync());
            Assert.Equal("stopping", said.RootElement.GetProperty("status").GetString());
        }
        finally
        {
            group.Stop(TimeSpan.FromSeconds(5));
        }
    }
}
