using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Eddy.Client;

namespace Eddy.Host.Commands;

/// <summary>
/// `eddy cluster config get|set|edit|export|import`: the cluster properties through the admin API's /v1/cluster_config
/// (docs/configuration.md). Values keep their JSON types: export writes one JSON object, import and edit send only the
/// properties whose values differ from the cluster's, in one change, so the whole change is checked before any of it
/// is made.
/// </summary>
internal static class ClusterConfigCommands
{
    private const string Path = "v1/cluster_config";

    public static Command Build()
    {
        var config = new Command("config", "Read and change the cluster properties");
        config.Subcommands.Add(Get());
        config.Subcommands.Add(Set());
        config.Subcommands.Add(Export());
        config.Subcommands.Add(Import());
        config.Subcommands.Add(Edit());
        return config;
    }

    private static Command Get()
    {
        var name = new Argument<string?>("property") { Description = "One property (default: all, as name value lines)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("get", "Print the cluster properties' values") { name };
        command.Action(async (parse, cancel) =>
        {
            var admin = Admin(parse);
            var config = await CurrentAsync(admin, cancel);
            if (parse.GetValue(name) is { } one)
            {
                Console.WriteLine(config[one] is { } value ? Text(value) : throw new UsageException($"no cluster property {one}"));
                return CommandRunner.Done;
            }
            var table = new TextTable("PROPERTY", "VALUE");
            foreach (var (key, value) in config)
            {
                table.Add(key, value is null ? "" : Text(value));
            }
            table.WriteTo(Console.Out);
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command Set()
    {
        var pairs = new Argument<string[]>("changes") { Description = "name=value (a node's own value: name@ID=value); name= returns it to unset", Arity = ArgumentArity.OneOrMore };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check the change without making it" };
        var command = new Command("set", "Change cluster properties in one change") { pairs, dryRun };
        command.Action(async (parse, cancel) =>
        {
            var admin = Admin(parse);
            var schema = await admin.GetAsync("v1/cluster_config/schema", cancel) as JsonObject;
            var upsert = new JsonObject();
            var remove = new JsonArray();
            foreach (var (key, value) in CliOptions.Pairs(parse.GetValue(pairs), "set"))
            {
                if (value.Length == 0)
                {
                    remove.Add((JsonNode)JsonValue.Create(key));
                }
                else
                {
                    upsert[key] = Typed(value, TypeOf(schema, key));
                }
            }
            return await ChangeAsync(admin, upsert, remove, parse.GetValue(dryRun), cancel);
        });
        return command;
    }

    private static Command Export()
    {
        var file = new Option<string?>("--file", "-f") { Description = "Write to this file (default: stdout)" };
        var command = new Command("export", "Write every cluster property's value as one JSON object") { file };
        command.Action(async (parse, cancel) =>
        {
            var admin = Admin(parse);
            string json = (await CurrentAsync(admin, cancel)).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
            if (parse.GetValue(file) is { } path)
            {
                await File.WriteAllTextAsync(path, json, cancel);
            }
            else
            {
                Console.Write(json);
            }
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command Import()
    {
        var file = new Argument<string>("file") { Description = "A JSON object of properties, as export writes it" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check the change without making it" };
        var command = new Command("import", "Set every property the file gives a different value to, in one change") { file, dryRun };
        command.Action(async (parse, cancel) =>
        {
            var admin = Admin(parse);
            var wanted = Parse(await File.ReadAllTextAsync(parse.GetValue(file)!, cancel), parse.GetValue(file)!);
            return await ApplyAsync(admin, wanted, parse.GetValue(dryRun), cancel);
        });
        return command;
    }

    private static Command Edit()
    {
        var command = new Command("edit", "Open the cluster properties in $EDITOR (default vi) and apply what changed");
        command.Action(async (parse, cancel) =>
        {
            var admin = Admin(parse);
            var current = await CurrentAsync(admin, cancel);
            string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"eddy-cluster-config-{Environment.ProcessId}.json");
            await File.WriteAllTextAsync(path, current.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", cancel);
            try
            {
                string editor = Environment.GetEnvironmentVariable("EDITOR") is { Length: > 0 } e ? e : "vi";
                using var process = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", $"{editor} \"$1\"", "sh", path } })
                    ?? throw new InvalidOperationException($"cannot start the editor {editor}");
                await process.WaitForExitAsync(cancel);
                if (process.ExitCode != 0)
                {
                    throw new InvalidOperationException($"the editor exited {process.ExitCode}: nothing changed");
                }
                return await ApplyAsync(admin, Parse(await File.ReadAllTextAsync(path, cancel), path), dryRun: false, cancel);
            }
            finally
            {
                File.Delete(path);
            }
        });
        return command;
    }

    /// <summary>Sends the properties of <paramref name="wanted"/> whose values differ from the cluster's; a property the
    /// file leaves out is left as it is.</summary>
    private static async Task<int> ApplyAsync(AdminApiClient admin, JsonObject wanted, bool dryRun, CancellationToken cancel)
    {
        var current = await CurrentAsync(admin, cancel);
        var upsert = new JsonObject();
        foreach (var (key, value) in wanted)
        {
            if (!JsonNode.DeepEquals(current[key], value))
            {
                upsert[key] = value?.DeepClone();
            }
        }
        if (upsert.Count == 0)
        {
            Console.WriteLine("nothing changed");
            return CommandRunner.Done;
        }
        return await ChangeAsync(admin, upsert, [], dryRun, cancel);
    }

    private static async Task<int> ChangeAsync(AdminApiClient admin, JsonObject upsert, JsonArray remove, bool dryRun, CancellationToken cancel)
    {
        var names = upsert.Select(kv => kv.Key).Concat(remove.Select(r => r!.ToString())).ToList();
        var answer = await admin.PutAsync(Path + (dryRun ? "?dry_run=true" : ""), new JsonObject { ["upsert"] = upsert, ["remove"] = remove }, cancel);
        Console.WriteLine(dryRun
            ? $"valid: {string.Join(", ", names)} (not made: --dry-run)"
            : $"changed {string.Join(", ", names)}; config version {answer?["config_version"]}");
        return CommandRunner.Done;
    }

    private static AdminApiClient Admin(ParseResult parse) => new(parse.GetValue(CliOptions.AdminUrl)!);

    private static async Task<JsonObject> CurrentAsync(AdminApiClient admin, CancellationToken cancel) =>
        await admin.GetAsync(Path, cancel) as JsonObject ?? throw new InvalidDataException("the cluster config is not a JSON object");

    private static JsonObject Parse(string text, string source)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new UsageException($"{source}: expected one JSON object");
        }
        catch (JsonException e)
        {
            throw new UsageException($"{source}: not JSON ({e.Message})");
        }
    }

    private static string Text(JsonNode value) => value is JsonValue v && v.TryGetValue(out string? s) ? s : value.ToJsonString();

    /// <summary>The schema's type of a property ("boolean", "integer", "string", ...), for NAME or NAME@ID.</summary>
    private static string? TypeOf(JsonObject? schema, string key)
    {
        string name = key.Split('@')[0];
        var properties = schema?["properties"] as JsonObject ?? schema;
        return properties?[name]?["type"]?.ToString();
    }

    /// <summary>A command-line value as the JSON type the property takes: numbers and booleans unquoted.</summary>
    private static JsonNode? Typed(string value, string? type) => type switch
    {
        "boolean" when bool.TryParse(value, out bool b) => JsonValue.Create(b),
        "integer" or "number" when long.TryParse(value, out long n) => JsonValue.Create(n),
        "integer" or "number" when double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out double d) => JsonValue.Create(d),
        _ => JsonValue.Create(value),
    };
}
