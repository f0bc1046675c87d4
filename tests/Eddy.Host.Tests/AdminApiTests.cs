using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Eddy.Host.Tests;

/// <summary>
/// The admin API of one running node (the published binary): each endpoint's answer, JSON errors for what does not
/// exist or is asked wrongly, and requests that break HTTP refused with their 4xx or 5xx while the node keeps serving
/// the next connection.
/// </summary>
public sealed class AdminApiTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-admin-{Guid.NewGuid():N}");
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private EddyProcess _eddy = null!;

    public async Task InitializeAsync()
    {
        _eddy = await EddyProcess.StartAsync("--smp", "2", "--kafka-addr", "127.0.0.1:0", "--data-dir", _data, "--rack", "r7");
        Assert.True(_eddy.AdminPort > 0, $"eddy said where its admin API listens:\n{_eddy.Output}");
    }

    public async Task DisposeAsync()
    {
        await _eddy.StopAsync(15);
        _eddy.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private string Url(string path) => $"http://127.0.0.1:{_eddy.AdminPort}{path}";

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path)
    {
        using var response = await Http.SendAsync(new HttpRequestMessage(method, Url(path)));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }

    private Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    [Fact]
    public async Task EachEndpointDescribesTheRunningNode()
    {
        var (status, ready) = await GetAsync("/v1/status/ready");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", ready.GetProperty("status").GetString());

        var (_, config) = await GetAsync("/v1/node_config");
        Assert.Equal(1, config.GetProperty("node_id").GetInt32());
        Assert.Equal(_eddy.Port, config.GetProperty("kafka_port").GetInt32());
        Assert.Equal(_eddy.AdminPort, config.GetProperty("admin_port").GetInt32());
        Assert.Equal(_data, config.GetProperty("properties").GetProperty("data_dir").GetString());
        Assert.Equal("2", config.GetProperty("properties").GetProperty("smp").GetString());

        var (_, brokers) = await GetAsync("/v1/brokers");
        var broker = Assert.Single(brokers.EnumerateArray());
        Assert.Equal(1, broker.GetProperty("node_id").GetInt32());
        Assert.Equal(_eddy.Bootstrap, broker.GetProperty("kafka_address").GetString());
        Assert.Equal("r7", broker.GetProperty("rack").GetString());
        Assert.Equal(2, broker.GetProperty("num_shards").GetInt32());
        Assert.True(broker.GetProperty("is_alive").GetBoolean());
        Assert.False(string.IsNullOrEmpty(broker.GetProperty("version").GetString()));
        Assert.Equal("active", broker.GetProperty("membership_status").GetString());

        var (_, features) = await GetAsync("/v1/features");
        int logical = broker.GetProperty("logical_version").GetInt32();
        Assert.Equal((logical, logical), (features.GetProperty("cluster_version").GetInt32(), features.GetProperty("node_latest_version").GetInt32()));
        Assert.Empty(features.GetProperty("nodes_not_answering").EnumerateArray());
        Assert.NotEmpty(features.GetProperty("features").EnumerateArray());
        Assert.All(features.GetProperty("features").EnumerateArray(), f => Assert.Equal("active", f.GetProperty("state").GetString()));

        var (one, same) = await GetAsync("/v1/brokers/1");
        Assert.Equal(HttpStatusCode.OK, one);
        Assert.Equal(broker.ToString(), same.ToString());

        var (_, partitions) = await GetAsync("/v1/partitions");
        Assert.Equal(JsonValueKind.Array, partitions.ValueKind);
        Assert.All(partitions.EnumerateArray(), p => Assert.Equal(1, p.GetProperty("leader_id").GetInt32()));

        var (_, health) = await GetAsync("/v1/cluster/health_overview");
        Assert.True(health.GetProperty("is_healthy").GetBoolean());
        Assert.Equal(1, health.GetProperty("controller_id").GetInt32());
        Assert.Equal([1], health.GetProperty("all_nodes").EnumerateArray().Select(n => n.GetInt32()));
        Assert.Equal(0, health.GetProperty("nodes_down").GetArrayLength());
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PutAsync(string path, string json)
    {
        using var response = await Http.PutAsync(Url(path), new StringContent(json, Encoding.UTF8, "application/json"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.Clone());
    }

    [Fact]
    public async Task TheClusterConfigIsDescribedCheckedChangedAndKeptOverARestart()
    {
        var (_, schema) = await GetAsync("/v1/cluster_config/schema");
        var properties = schema.GetProperty("properties");
        Assert.Equal("boolean", properties.GetProperty("auto_create_topics_enabled").GetProperty("type").GetString());
        Assert.Equal(10000, properties.GetProperty("default_topic_partitions").GetProperty("maximum").GetInt32());
        Assert.Equal(5, properties.GetProperty("log_level").GetProperty("enum").GetArrayLength());
        Assert.True(properties.GetProperty("roles").GetProperty("per_node").GetBoolean());
        Assert.Equal("log.retention.ms", properties.GetProperty("log_retention_ms").GetProperty("kafka_name").GetString());

        var (_, initial) = await GetAsync("/v1/cluster_config");
        Assert.True(initial.GetProperty("auto_create_topics_enabled").GetBoolean());
        Assert.Equal(1, initial.GetProperty("default_topic_partitions").GetInt32());
        Assert.Equal("info", initial.GetProperty("log_level").GetString());

        var (refused, why) = await PutAsync("/v1/cluster_config",
            """{"upsert": {"nope": 1, "default_topic_partitions": 0, "auto_create_topics_enabled": "yes", "log_level": "loud", "num_partitions@1": 2, "default_topic_partitions@1": 2, "roles@1": "ftp"}, "remove": ["also_nope"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Equal(["also_nope", "auto_create_topics_enabled", "default_topic_partitions", "default_topic_partitions@1", "log_level", "nope", "num_partitions@1", "roles@1"],
            why.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Contains("0 is outside 1..10000", why.GetProperty("errors").GetProperty("default_topic_partitions").GetString(), StringComparison.Ordinal);
        Assert.Contains("takes no node's own value", why.GetProperty("errors").GetProperty("default_topic_partitions@1").GetString(), StringComparison.Ordinal);

        var (dry, _) = await PutAsync("/v1/cluster_config?dry_run=true", """{"upsert": {"default_topic_partitions": 4}}""");
        Assert.Equal(HttpStatusCode.OK, dry);
        var (unclear, _) = await PutAsync("/v1/cluster_config?dry_run=maybe", """{"upsert": {"default_topic_partitions": 4}}""");
        Assert.Equal(HttpStatusCode.BadRequest, unclear);
        Assert.Equal(1, (await GetAsync("/v1/cluster_config")).Body.GetProperty("default_topic_partitions").GetInt32());

        var (changed, version) = await PutAsync("/v1/cluster_config", """{"upsert": {"default_topic_partitions": 4, "log_level": "debug"}}""");
        Assert.Equal(HttpStatusCode.OK, changed);
        Assert.Equal(1, version.GetProperty("config_version").GetInt64());
        var (removed, _) = await PutAsync("/v1/cluster_config", """{"remove": ["log_level"]}""");
        Assert.Equal(HttpStatusCode.OK, removed);
        var (_, status) = await GetAsync("/v1/cluster_config/status");
        var self = Assert.Single(status.EnumerateArray());
        Assert.Equal((1, 2L, false), (self.GetProperty("node_id").GetInt32(), self.GetProperty("config_version").GetInt64(), self.GetProperty("restart").GetBoolean()));

        // The config is the controller's: a restarted node reads it back from its log.
        await _eddy.StopAsync(15);
        _eddy.Dispose();
        _eddy = await EddyProcess.StartAsync("--smp", "2", "--kafka-addr", "127.0.0.1:0", "--data-dir", _data, "--rack", "r7");
        var (_, after) = await GetAsync("/v1/cluster_config");
        Assert.Equal(4, after.GetProperty("default_topic_partitions").GetInt32());
        Assert.Equal("info", after.GetProperty("log_level").GetString());
    }

    [Theory]
    [InlineData("/v1/brokers/9", HttpStatusCode.NotFound, "node 9 is not a member")]
    [InlineData("/v1/brokers/nine", HttpStatusCode.BadRequest, "'nine' is not a node id")]
    [InlineData("/v1/partitions/kafka/nothing/0", HttpStatusCode.NotFound, "no partition nothing/0")]
    [InlineData("/v1/partitions/kafka/nothing/-1", HttpStatusCode.BadRequest, "'-1' is not a partition number")]
    [InlineData("/v2/everything", HttpStatusCode.NotFound, "no such resource: /v2/everything")]
    public async Task WhatDoesNotExistOrIsAskedWronglyGetsAJsonErrorNamingIt(string path, HttpStatusCode expected, string message)
    {
        var (status, error) = await GetAsync(path);
        Assert.Equal(expected, status);
        Assert.Equal((int)expected, error.GetProperty("code").GetInt32());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherMethodOnAResourceGets405WithWhatItAllows()
    {
        using var response = await Http.PutAsync(Url("/v1/brokers"), new StringContent("{}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET"], response.Content.Headers.Allow);
    }

    /// <summary>Sends raw bytes on a fresh connection and reads until the node closes it.</summary>
    private async Task<string> RawAsync(byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _eddy.AdminPort);
        var stream = client.GetStream();
        await stream.WriteAsync(request);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var read = reader.ReadToEndAsync();
        Assert.True(await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))) == read, "the node closed the connection after its answer");
        return await read;
    }

    public static TheoryData<string, byte[], string> BrokenRequests => new()
    {
        { "garbage", "\u0016\u0003\u0001 hello\r\n\r\n"u8.ToArray(), "HTTP/1.1 400 " },
        { "no target", "GET HTTP/1.1\r\n\r\n"u8.ToArray(), "HTTP/1.1 400 " },
        { "HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), "HTTP/1.1 505 " },
        { "a folded header", "GET /v1/brokers HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"u8.ToArray(), "HTTP/1.1 400 " },
        { "a chunked body", "PUT /v1/brokers HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"u8.ToArray(), "HTTP/1.1 501 " },
        { "two lengths", "PUT /v1/brokers HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"u8.ToArray(), "HTTP/1.1 400 " },
        { "a huge body", "PUT /v1/brokers HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"u8.ToArray(), "HTTP/1.1 413 " },
        { "a huge head", Encoding.ASCII.GetBytes("GET /v1/brokers HTTP/1.1\r\nX-Filler: " + new string('x', 20_000) + "\r\n\r\n"), "HTTP/1.1 431 " },
        { "a huge target", Encoding.ASCII.GetBytes("GET /" + new string('a', 5000) + " HTTP/1.1\r\n\r\n"), "HTTP/1.1 414 " },
    };

    [Theory]
    [MemberData(nameof(BrokenRequests))]
    public async Task ARequestThatBreaksHttpIsRefusedAndTheNodeServesTheNext(string what, byte[] request, string expected)
    {
        string answer = await RawAsync(request);
        Assert.True(answer.StartsWith(expected, StringComparison.Ordinal), $"{what}: {answer}");
        Assert.Contains("Connection: close", answer, StringComparison.Ordinal);
        Assert.Contains("\"code\":", answer, StringComparison.Ordinal);
        var (status, _) = await GetAsync("/v1/status/ready");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task AConnectionCarriesRequestsOneAfterAnother()
    {
        byte[] twice = "GET /v1/status/ready HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/brokers/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray();
        string answers = await RawAsync(twice);
        Assert.Equal(2, answers.Split("HTTP/1.1 200 OK").Length - 1);
        Assert.Contains("\"status\":\"ready\"", answers, StringComparison.Ordinal);
        Assert.Contains("\"node_id\":1", answers, StringComparison.Ordinal);
    }
}
