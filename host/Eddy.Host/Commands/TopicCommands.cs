using System.CommandLine;
using Eddy.Client;
using Eddy.Client.Consuming;

namespace Eddy.Host.Commands;

/// <summary>`eddy topic create|list|describe|delete|alter-config|add-partitions`.</summary>
internal static class TopicCommands
{
    public static Command Build()
    {
        var topic = new Command("topic", "Create, list, describe, change and delete topics");
        topic.Subcommands.Add(Create());
        topic.Subcommands.Add(List());
        topic.Subcommands.Add(Describe());
        topic.Subcommands.Add(Delete());
        topic.Subcommands.Add(AlterConfig());
        topic.Subcommands.Add(AddPartitions());
        return topic;
    }

    private static Argument<string> Name() => new("topic") { Description = "The topic's name" };

    private static Command Create()
    {
        var names = new Argument<string[]>("topics") { Description = "The topics to create", Arity = ArgumentArity.OneOrMore };
        var partitions = new Option<int>("--partitions", "-p") { Description = "Partitions of each topic (default: the cluster's default_topic_partitions)", DefaultValueFactory = _ => -1 };
        var replicas = new Option<short>("--replicas", "-r") { Description = "Replicas of each partition (default: the cluster's default_topic_replications)", DefaultValueFactory = _ => -1 };
        var configs = new Option<string[]>("--config", "-c") { Description = "A topic config, key=value (repeatable), e.g. cleanup.policy=compact", AllowMultipleArgumentsPerToken = false };
        var command = new Command("create", "Create topics") { names, partitions, replicas, configs };
        command.ClientAction(async (parse, client, cancel) =>
        {
            var pairs = CliOptions.Pairs(parse.GetValue(configs), "--config");
            var admin = new TopicAdmin(client);
            foreach (string name in parse.GetValue(names)!)
            {
                await admin.CreateAsync(name, parse.GetValue(partitions), parse.GetValue(replicas), pairs, cancel);
                Console.WriteLine($"created {name}");
            }
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command List()
    {
        var internals = new Option<bool>("--internal", "-i") { Description = "Also list internal topics (__consumer_offsets)" };
        var command = new Command("list", "List topics with their partition and replica counts") { internals };
        command.Aliases.Add("ls");
        command.ClientAction(async (parse, client, cancel) =>
        {
            var metadata = await client.MetadataAsync(null, cancel);
            var table = new TextTable("NAME", "PARTITIONS", "REPLICAS");
            foreach (var t in metadata.Topics.Values.Where(t => parse.GetValue(internals) || !t.IsInternal).OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                table.Add(t.Name, t.Partitions.Count, t.Partitions.Count > 0 ? t.Partitions.Max(p => p.Replicas.Count) : 0);
            }
            table.WriteTo(Console.Out);
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command Describe()
    {
        var name = Name();
        var all = new Option<bool>("--all-configs", "-a") { Description = "List every config, defaults included (default: only those set on the topic)" };
        var command = new Command("describe", "A topic's partitions (leader, replicas, in-sync replicas, offsets) and configs") { name, all };
        command.ClientAction(async (parse, client, cancel) =>
        {
            string topicName = parse.GetValue(name)!;
            var topic = (await client.MetadataAsync([topicName], cancel)).Topic(topicName);
            Console.WriteLine($"NAME        {topic.Name}");
            Console.WriteLine($"ID          {topic.TopicId}");
            Console.WriteLine($"INTERNAL    {topic.IsInternal.ToString().ToLowerInvariant()}");
            Console.WriteLine($"PARTITIONS  {topic.Partitions.Count}");
            Console.WriteLine();
            var partitions = new TextTable("PARTITION", "LEADER", "EPOCH", "REPLICAS", "IN-SYNC", "START", "END");
            foreach (var p in topic.Partitions)
            {
                long start = await Fetcher.OffsetForAsync(client, topicName, p.Index, -2, cancel);
                long end = await Fetcher.OffsetForAsync(client, topicName, p.Index, -1, cancel);
                partitions.Add(p.Index, p.Leader, p.LeaderEpoch, $"[{string.Join(',', p.Replicas)}]", $"[{string.Join(',', p.Isr)}]", start, end);
            }
            partitions.WriteTo(Console.Out);
            Console.WriteLine();
            var configs = new TextTable("CONFIG", "VALUE", "SOURCE");
            foreach (var c in (await new TopicAdmin(client).DescribeConfigsAsync(TopicAdmin.TopicResource, topicName, cancel)).OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                if (parse.GetValue(all) || c.ConfigSource == ConfigSources.Topic)
                {
                    configs.Add(c.Name, c.IsSensitive ? "(sensitive)" : c.Value, ConfigSources.Name(c.ConfigSource));
                }
            }
            configs.WriteTo(Console.Out);
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command Delete()
    {
        var names = new Argument<string[]>("topics") { Description = "The topics to delete", Arity = ArgumentArity.OneOrMore };
        var command = new Command("delete", "Delete topics and their data") { names };
        command.Aliases.Add("rm");
        command.ClientAction(async (parse, client, cancel) =>
        {
            var topics = parse.GetValue(names)!;
            await new TopicAdmin(client).DeleteAsync(topics, cancel);
            foreach (string t in topics)
            {
                Console.WriteLine($"deleted {t}");
            }
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command AlterConfig()
    {
        var name = Name();
        var set = new Option<string[]>("--set", "-s") { Description = "Set a config, key=value (repeatable)" };
        var delete = new Option<string[]>("--delete", "-d") { Description = "Remove a config, so the cluster's default applies again (repeatable)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check the change without making it" };
        var command = new Command("alter-config", "Set or remove a topic's configs") { name, set, delete, dryRun };
        command.ClientAction(async (parse, client, cancel) =>
        {
            var changes = CliOptions.Pairs(parse.GetValue(set), "--set").ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
            foreach (string key in parse.GetValue(delete) ?? [])
            {
                changes[key] = null;
            }
            if (changes.Count == 0)
            {
                throw new UsageException("nothing to change: give --set key=value or --delete key");
            }
            string topicName = parse.GetValue(name)!;
            await new TopicAdmin(client).AlterConfigsAsync(TopicAdmin.TopicResource, topicName, changes, parse.GetValue(dryRun), cancel);
            Console.WriteLine(parse.GetValue(dryRun) ? $"{topicName}: the change is valid (not made: --dry-run)" : $"altered {topicName}");
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command AddPartitions()
    {
        var name = Name();
        var total = new Option<int>("--total", "-t") { Description = "The partition count to grow to", Required = true };
        var command = new Command("add-partitions", "Grow a topic to more partitions (existing keys may then map elsewhere)") { name, total };
        command.ClientAction(async (parse, client, cancel) =>
        {
            string topicName = parse.GetValue(name)!;
            await new TopicAdmin(client).AddPartitionsAsync(topicName, parse.GetValue(total), cancel);
            Console.WriteLine($"{topicName} now has {parse.GetValue(total)} partitions");
            return CommandRunner.Done;
        });
        return command;
    }
}
