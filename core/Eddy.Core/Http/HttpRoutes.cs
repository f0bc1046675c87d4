namespace Eddy.Http;

/// <summary>The values a route's {name} segments took in a request's path.</summary>
public sealed class RouteValues
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public string this[string name] => _values[name];

    internal void Set(string name, string value) => _values[name] = value;
}

/// <summary>
/// Maps a method and a path to a handler. A template is a path whose segments are literal or {name}, which takes any
/// one non-empty segment. A path no template matches gets 404; one that matches under another method gets 405 with
/// Allow. Built once, before the server starts; read concurrently after.
/// </summary>
public sealed class HttpRoutes
{
    public delegate ValueTask<HttpResponse> Handler(HttpRequest request, RouteValues values);

    private readonly List<(string Method, string[] Segments, Handler Handler)> _routes = [];
    private readonly Func<int, string, HttpResponse> _error;

    /// <param name="error">Makes the response for a status and a message (the API's error body).</param>
    public HttpRoutes(Func<int, string, HttpResponse> error) => _error = error;

    public HttpRoutes Map(string method, string template, Handler handler)
    {
        if (!template.StartsWith('/'))
        {
            throw new ArgumentException($"a route template starts with '/': {template}", nameof(template));
        }
        _routes.Add((method, Split(template), handler));
        return this;
    }

    public HttpRoutes MapGet(string template, Handler handler) => Map("GET", template, handler);

    public HttpRoutes MapPut(string template, Handler handler) => Map("PUT", template, handler);

    /// <summary>The response to <paramref name="request"/>: its route's, or the error the routes give.</summary>
    public ValueTask<HttpResponse> DispatchAsync(HttpRequest request)
    {
        var segments = Split(request.Path);
        List<string>? allowed = null;
        foreach (var (method, template, handler) in _routes)
        {
            var values = Match(template, segments);
            if (values is null)
            {
                continue;
            }
            if (method == request.Method)
            {
                return handler(request, values);
            }
            (allowed ??= []).Add(method);
        }
        if (allowed is null)
        {
            return new ValueTask<HttpResponse>(_error(404, $"no such resource: {request.Path}"));
        }
        var refused = _error(405, $"{request.Path} takes {string.Join(", ", allowed)}, not {request.Method}");
        refused.Headers.Add(("Allow", string.Join(", ", allowed)));
        return new ValueTask<HttpResponse>(refused);
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static RouteValues? Match(string[] template, string[] segments)
    {
        if (template.Length != segments.Length)
        {
            return null;
        }
        var values = new RouteValues();
        for (int i = 0; i < template.Length; i++)
        {
            string part = template[i];
            if (part.Length > 2 && part[0] == '{' && part[^1] == '}')
            {
                values.Set(part[1..^1], segments[i]);
            }
            else if (part != segments[i])
            {
                return null;
            }
        }
        return values;
    }
}
