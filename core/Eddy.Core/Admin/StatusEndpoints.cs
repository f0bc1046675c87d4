using Eddy.Http;

namespace Eddy.Admin;

/// <summary>GET /v1/status/ready: 200 once the node serves Kafka clients, 503 before (and while it stops); what a load
/// balancer or an orchestrator's readiness probe asks.</summary>
internal static class StatusEndpoints
{
    public static void Map(HttpRoutes routes, AdminContext context) => routes.MapGet("/v1/status/ready", (_, _) =>
    {
        bool ready = context.Node is not null;
        return new ValueTask<HttpResponse>(AdminJson.Response(ready ? 200 : 503, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", ready ? "ready" : context.IsStopping ? "stopping" : "booting");
            w.WriteEndObject();
        }));
    });
}
