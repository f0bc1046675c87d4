using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Eddy.Client;

/// <summary>
/// JSON over a node's admin API (docs/admin-api.md). A 4xx or 5xx answer throws <see cref="AdminApiException"/>
/// carrying the node's own message (its error bodies are {"message": ..., "code": ...}).
/// </summary>
public sealed class AdminApiClient(string baseUrl) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(Normalize(baseUrl)), Timeout = TimeSpan.FromSeconds(30) };

    public async Task<JsonNode?> GetAsync(string path, CancellationToken cancel = default)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancel);
        return await ReadAsync(response, cancel);
    }

    /// <summary>A plain-text resource (/metrics).</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken cancel = default)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancel);
        string text = await response.Content.ReadAsStringAsync(cancel);
        return response.IsSuccessStatusCode ? text : throw new AdminApiException($"{(int)response.StatusCode} {response.ReasonPhrase}: {text.Trim()}");
    }

    public async Task<JsonNode?> PutAsync(string path, JsonNode body, CancellationToken cancel = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, path)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        using var response = await SendAsync(request, cancel);
        return await ReadAsync(response, cancel);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel)
    {
        try
        {
            using (request)
            {
                return await _http.SendAsync(request, cancel);
            }
        }
        catch (HttpRequestException e)
        {
            throw new AdminApiException($"cannot reach the admin API at {_http.BaseAddress}: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new AdminApiException($"the admin API at {_http.BaseAddress} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
    }

    private static async Task<JsonNode?> ReadAsync(HttpResponseMessage response, CancellationToken cancel)
    {
        string text = await response.Content.ReadAsStringAsync(cancel);
        JsonNode? body = null;
        try
        {
            body = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            if (response.IsSuccessStatusCode)
            {
                throw new AdminApiException($"{response.RequestMessage?.RequestUri}: the answer is not JSON");
            }
        }
        if (!response.IsSuccessStatusCode)
        {
            string message = body is JsonObject o && o["message"] is JsonValue m ? m.ToString() : text.Trim();
            throw new AdminApiException($"{(int)response.StatusCode} {response.ReasonPhrase}: {message}", body);
        }
        return body;
    }

    private static string Normalize(string url)
    {
        if (!url.Contains("://", StringComparison.Ordinal))
        {
            url = "http://" + url;
        }
        return url.EndsWith('/') ? url : url + "/";
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The admin API refused a request or could not be reached; <see cref="Body"/> is its JSON answer, if any.</summary>
public sealed class AdminApiException(string message, JsonNode? body = null) : Exception(message)
{
    public JsonNode? Body { get; } = body;
}
