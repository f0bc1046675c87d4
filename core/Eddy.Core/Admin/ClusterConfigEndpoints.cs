using System.Globalization;
using System.Text.Json;
using Eddy.Cluster;
using Eddy.Http;

namespace Eddy.Admin;

/// <summary>
/// The cluster's config (docs/admin-api.md): GET /v1/cluster_config (every property's value, set or default),
/// PUT /v1/cluster_config (<c>{"upsert": {...}, "remove": [...]}</c>, <c>?dry_run=true</c> to check only; a 400 names
/// each invalid property), GET /v1/cluster_config/schema (each property's type, default, bounds, unit, description,
/// and whether it needs a restart), GET /v1/cluster_config/status (each node's applied version, asked of it). A change goes through the controller's log, so every node applies the same ones in
/// the same order; the answer comes once this node has applied it.
/// </summary>
internal static class ClusterConfigEndpoints
{
    /// <summary>How long /v1/cluster_config/status waits for each node's answer.</summary>
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);

    public static void Map(HttpRoutes routes, AdminContext context)
    {
        routes.MapGet("/v1/cluster_config", context.WithNode((node, _, _) =>
        {
            var config = node.Broker.Controller.View.Config;
            return new ValueTask<HttpResponse>(AdminJson.Ok(w =>
            {
                w.WriteStartObject();
                foreach (var property in ClusterProperties.All)
                {
                    WriteValue(w, property.Name, property, ClusterProperties.SetIn(config, property) ?? property.Default);
                }
                // Nodes' own values of per-node properties, under their keys (NAME@NODE_ID).
                foreach (var (key, value) in config.Where(c => c.Key.Contains(ClusterProperties.NodeSeparator)).OrderBy(c => c.Key, StringComparer.Ordinal))
                {
                    if (ClusterProperties.ParseKey(key, out var property, out _) is null && property.Check(value) is null)
                    {
                        WriteValue(w, key, property, value);
                    }
                }
                w.WriteEndObject();
            }));
        }));
        routes.MapGet("/v1/cluster_config/schema", (_, _) => new ValueTask<HttpResponse>(AdminJson.Ok(WriteSchema)));
        routes.MapGet("/v1/cluster_config/status", context.WithNode(async (node, _, _) =>
        {
            var controller = node.Broker.Controller;
            var brokers = controller.View.Brokers.Select(b => b.NodeId).Order().ToList();
            var statuses = await Task.WhenAll(brokers.Select(id => controller.ConfigStatusOfAsync(id, AskTimeout)));
            return AdminJson.Ok(w =>
            {
                w.WriteStartArray();
                for (int i = 0; i < brokers.Count; i++)
                {
                    w.WriteStartObject();
                    w.WriteNumber("node_id", brokers[i]);
                    if (statuses[i] is var (version, restart))
                    {
                        w.WriteNumber("config_version", version);
                        w.WriteBoolean("restart", restart);
                    }
                    else
                    {
                        w.WriteString("error", "did not answer");
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
        }));
        routes.MapPut("/v1/cluster_config", context.WithNode(async (node, request, _) =>
        {
            var (upserts, removes, problems) = ReadChange(request.Body);
            if (problems.Count > 0)
            {
                return AdminJson.Response(400, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("message", $"invalid cluster config change: {string.Join("; ", problems.Select(p => $"{p.Key}: {p.Value}"))}");
                    w.WriteNumber("code", 400);
                    w.WriteStartObject("errors");
                    foreach (var (name, why) in problems)
                    {
                        w.WriteString(name, why);
                    }
                    w.WriteEndObject();
                    w.WriteEndObject();
                });
            }
            var controller = node.Broker.Controller;
            string? dryRun = request.QueryValue("dry_run");
            if (dryRun is not (null or "true" or "false"))
            {
                return AdminJson.Error(400, $"dry_run is true or false, not '{dryRun}'");
            }
            if (dryRun == "true")
            {
                return AdminJson.Ok(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("config_version", controller.View.ConfigVersion);
                    w.WriteBoolean("dry_run", true);
                    w.WriteEndObject();
                });
            }
            try
            {
                await context.Shards.InvokeAsync(Controller.Shard, () => controller.ExecuteAsync(ControllerCommand.SetClusterConfig(upserts, removes)));
            }
            catch (ControllerUnavailableException e)
            {
                return AdminJson.Error(503, e.Message);
            }
            return AdminJson.Ok(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("config_version", controller.View.ConfigVersion);
                w.WriteEndObject();
            });
        }));
    }

    /// <summary>The change a PUT body asks for, in canonical form, and what is wrong with it by property (or "body").</summary>
    private static (List<KeyValuePair<string, string>> Upserts, List<string> Removes, SortedDictionary<string, string> Problems) ReadChange(byte[] body)
    {
        var upserts = new List<KeyValuePair<string, string>>();
        var removes = new List<string>();
        var problems = new SortedDictionary<string, string>(StringComparer.Ordinal);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            problems["body"] = $"not JSON: {e.Message}";
            return (upserts, removes, problems);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problems["body"] = "not an object with \"upsert\" and \"remove\"";
                return (upserts, removes, problems);
            }
            foreach (var field in root.EnumerateObject())
            {
                if (field.Name == "upsert" && field.Value.ValueKind == JsonValueKind.Object)
                {
                    foreach (var entry in field.Value.EnumerateObject())
                    {
                        if (ClusterProperties.ParseKey(entry.Name, out var property, out _) is { } notAKey)
                        {
                            problems[entry.Name] = notAKey;
                        }
                        else if (Canonical(property, entry.Value) is not { } value)
                        {
                            problems[entry.Name] = $"{entry.Value.GetRawText()} is not a {property.Type.ToString().ToLowerInvariant()}";
                        }
                        else if (property.Check(value) is { } why)
                        {
                            problems[entry.Name] = why;
                        }
                        else
                        {
                            upserts.Add(new(entry.Name, value));
                        }
                    }
                }
                else if (field.Name == "remove" && field.Value.ValueKind == JsonValueKind.Array)
                {
                    foreach (var entry in field.Value.EnumerateArray())
                    {
                        string? name = entry.ValueKind == JsonValueKind.String ? entry.GetString() : null;
                        if (name is null || ClusterProperties.ParseKey(name, out _, out _) is not null)
                        {
                            problems[name ?? entry.GetRawText()] = "no such cluster property to remove";
                        }
                        else
                        {
                            removes.Add(name);
                        }
                    }
                }
                else
                {
                    problems[field.Name] = "not a field of a config change (an \"upsert\" object and a \"remove\" array)";
                }
            }
        }
        foreach (string name in removes.Where(r => upserts.Any(u => u.Key == r)))
        {
            problems[name] = "both set and removed";
        }
        if (upserts.Count == 0 && removes.Count == 0 && problems.Count == 0)
        {
            problems["body"] = "changes nothing";
        }
        return (upserts, removes, problems);
    }

    /// <summary>A JSON value as the property's canonical text, or null when it is not of the property's type.</summary>
    private static string? Canonical(ClusterProperty property, JsonElement value) => property.Type switch
    {
        ClusterPropertyType.Boolean => value.ValueKind switch
        {
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        },
        ClusterPropertyType.Integer => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n)
            ? n.ToString(CultureInfo.InvariantCulture) : null,
        _ => value.ValueKind == JsonValueKind.String ? value.GetString() : null,
    };

    private static void WriteValue(Utf8JsonWriter w, string key, ClusterProperty property, string value)
    {
        switch (property.Type)
        {
            case ClusterPropertyType.Boolean:
                w.WriteBoolean(key, property.AsBoolean(value));
                break;
            case ClusterPropertyType.Integer:
                w.WriteNumber(key, property.AsInteger(value));
                break;
            default:
                w.WriteString(key, value);
                break;
        }
    }

    private static void WriteSchema(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("properties");
        foreach (var property in ClusterProperties.All)
        {
            w.WriteStartObject(property.Name);
            w.WriteString("type", property.Type.ToString().ToLowerInvariant());
            WriteValue(w, "default", property, property.Default);
            w.WriteString("description", property.Description);
            if (property.Unit is { } unit)
            {
                w.WriteString("unit", unit);
            }
            if (property.Minimum is long minimum)
            {
                w.WriteNumber("minimum", minimum);
            }
            if (property.Maximum is long maximum)
            {
                w.WriteNumber("maximum", maximum);
            }
            if (property.Choices is { } choices)
            {
                w.WriteStartArray("enum");
                foreach (string choice in choices)
                {
                    w.WriteStringValue(choice);
                }
                w.WriteEndArray();
            }
            w.WriteBoolean("needs_restart", property.NeedsRestart);
            w.WriteBoolean("per_node", property.PerNode);
            if (property.KafkaName is { } kafkaName)
            {
                w.WriteString("kafka_name", kafkaName);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
