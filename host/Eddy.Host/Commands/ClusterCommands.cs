using System.CommandLine;
using System.Text.Json.Nodes;
using Eddy.Client;

namespace Eddy.Host.Commands;

/// <summary>`eddy cluster info|health|partitions` and `eddy cluster config get|set|edit|export|import`.</summary>
internal static class ClusterCommands
{
    public static Command Build()
    {
        var cluster = new Command("cluster", "The cluster's nodes, health, partitions and config");
        cluster.Subcommands.Add(Info());
        cluster.Subcommands.Add(Health());
        cluster.Subcommands.Add(Partitions());
        cluster.Subcommands.Add(ClusterConfigCommands.Build());
        return cluster;
    }

    private static Command Info()
    {
        var command = new Command("info", "The cluster id, the controller and every node serving Kafka");
        command.ClientAction(async (parse, client, cancel) =>
        {
            var metadata = await client.MetadataAsync([], cancel);
            Console.WriteLine($"CLUSTER     {metadata.ClusterId}");
            Console.WriteLine($"CONTROLLER  {metadata.ControllerId}");
            Console.WriteLine();
            var table = new TextTable("ID", "HOST", "PORT", "RACK");
            foreach (var b in metadata.Brokers)
            {
                table.Add(b.NodeId + (b.NodeId == metadata.ControllerId ? "*" : ""), b.Host, b.Port, b.Rack ?? "");
            }
            table.WriteTo(Console.Out);
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command Health()
    {
        var command = new Command("health", "Whether the cluster is healthy (the admin API's health overview); exit code 1 when it is not");
        command.Action(async (parse, cancel) =>
        {
            var admin = new AdminApiClient(parse.GetValue(CliOptions.AdminUrl)!);
            var health = await admin.GetAsync("v1/cluster/health_overview", cancel) as JsonObject
                ?? throw new InvalidDataException("the health overview is not a JSON object");
            foreach (var (key, value) in health)
            {
                Console.WriteLine($"{key,-28}{(value is JsonArray a ? "[" + string.Join(", ", a.Select(v => v?.ToString())) + "]" : value?.ToString())}");
            }
            return health["is_healthy"]?.GetValue<bool>() == true ? CommandRunner.Done : CommandRunner.Failed;
        });
        return command;
    }

    private static Command Partitions()
    {
        var topic = new Option<string[]>("--topic", "-t") { Description = "Only these topics (repeatable; default: all)" };
        var under = new Option<bool>("--under-replicated", "-u") { Description = "Only partitions with fewer in-sync replicas than replicas, or no leader" };
        var command = new Command("partitions", "Every partition's leader, epoch, replicas and in-sync replicas") { topic, under };
        command.ClientAction(async (parse, client, cancel) =>
        {
            var topics = parse.GetValue(topic) is { Length: > 0 } named ? named : null;
            var metadata = await client.MetadataAsync(topics, cancel);
            var table = new TextTable("TOPIC", "PARTITION", "LEADER", "EPOCH", "REPLICAS", "IN-SYNC");
            foreach (var t in metadata.Topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                if (topics is not null)
                {
                    metadata.Topic(t.Name);
                }
                foreach (var p in t.Partitions)
                {
                    if (!parse.GetValue(under) || p.Isr.Count < p.Replicas.Count || p.Leader < 0)
                    {
                        table.Add(t.Name, p.Index, p.Leader, p.LeaderEpoch, $"[{string.Join(',', p.Replicas)}]", $"[{string.Join(',', p.Isr)}]");
                    }
                }
            }
            table.WriteTo(Console.Out);
            return CommandRunner.Done;
        });
        return command;
    }
}
