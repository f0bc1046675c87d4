using System.Net;
using System.Text;

namespace Eddy.Host.Tests;

/// <summary>The cluster property log_level_subsystems turns one subsystem's debug lines on in a running node, and
/// removing it turns them off again, without a restart: an admin connection reset mid-request is logged at debug by the
/// http subsystem only while the property says so.</summary>
public sealed class SubsystemLogLevelTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-loglevels-{Guid.NewGuid():N}");
    private EddyProcess _eddy = null!;

    public async Task InitializeAsync() => _eddy = await EddyProcess.StartAsync("--smp", "1", "--kafka-addr", "127.0.0.1:0", "--data-dir", _data);

    public async Task DisposeAsync()
    {
        await _eddy.StopAsync(15);
        _eddy.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private async Task PutAsync(string json)
    {
        using var response = await Http.PutAsync($"http://127.0.0.1:{_eddy.AdminPort}/v1/cluster_config", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Starts a request on the admin port and resets the connection (SO_LINGER 0) before finishing it.</summary>
    private int HttpDebugLines() => _eddy.Output.Split('\n').Count(l => l.Contains("DEBUG", StringComparison.Ordinal) && l.Contains(" http: ", StringComparison.Ordinal));

    [Fact]
    public async Task OneSubsystemsDebugLinesComeAndGoWithTheProperty()
    {
        await _eddy.ResetAdminConnectionMidRequestAsync();
        await Task.Delay(300);
        Assert.Equal(0, HttpDebugLines());

        await PutAsync("""{"upsert": {"log_level_subsystems": "http=debug"}}""");
        await _eddy.ResetAdminConnectionMidRequestAsync();
        await _eddy.WaitForOutputAsync("http: connection from");
        Assert.Equal(1, HttpDebugLines());
        Assert.All(_eddy.Output.Split('\n').Where(l => l.Contains("DEBUG", StringComparison.Ordinal)), l => Assert.Contains(" http: ", l, StringComparison.Ordinal));

        await PutAsync("""{"remove": ["log_level_subsystems"]}""");
        await _eddy.ResetAdminConnectionMidRequestAsync();
        await Task.Delay(300);
        Assert.Equal(1, HttpDebugLines());

        using var refused = await Http.PutAsync($"http://127.0.0.1:{_eddy.AdminPort}/v1/cluster_config",
            new StringContent("""{"upsert": {"log_level_subsystems": "http=loud"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }
}
