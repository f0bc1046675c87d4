using System.CommandLine;
using Eddy.Client;
using Eddy.Client.Consuming;

namespace Eddy.Host.Commands;

/// <summary>`eddy group list|describe|delete|seek`.</summary>
internal static class GroupCommands
{
    public static Command Build()
    {
        var group = new Command("group", "List, describe, delete consumer groups and move their offsets");
        group.Subcommands.Add(List());
        group.Subcommands.Add(Describe());
        group.Subcommands.Add(Delete());
        group.Subcommands.Add(Seek());
        return group;
    }

    private static Argument<string> Name() => new("group") { Description = "The group id" };

    private static Command List()
    {
        var command = new Command("list", "List the cluster's groups with their state");
        command.Aliases.Add("ls");
        command.ClientAction(async (parse, client, cancel) =>
        {
            var table = new TextTable("GROUP", "STATE", "PROTOCOL-TYPE");
            foreach (var g in await new GroupAdmin(client).ListAsync(cancel))
            {
                table.Add(g.GroupId, g.GroupState, g.ProtocolType);
            }
            table.WriteTo(Console.Out);
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command Describe()
    {
        var name = Name();
        var command = new Command("describe", "A group's state, members, and committed offsets with their lag") { name };
        command.ClientAction(async (parse, client, cancel) =>
        {
            string groupId = parse.GetValue(name)!;
            var admin = new GroupAdmin(client);
            var described = await admin.DescribeAsync(groupId, cancel);
            Console.WriteLine($"GROUP     {described.GroupId}");
            Console.WriteLine($"STATE     {described.GroupState}");
            Console.WriteLine($"PROTOCOL  {described.ProtocolType} {described.ProtocolData}".TrimEnd());
            Console.WriteLine($"MEMBERS   {described.Members.Count}");
            foreach (var m in described.Members)
            {
                Console.WriteLine($"  {m.MemberId} ({m.ClientId} at {m.ClientHost.TrimStart('/')})");
            }
            Console.WriteLine();
            var offsets = await admin.OffsetsAsync(groupId, null, cancel);
            var table = new TextTable("TOPIC", "PARTITION", "COMMITTED", "END", "LAG");
            foreach (var ((topic, partition), committed) in offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition))
            {
                long end = await Fetcher.OffsetForAsync(client, topic, partition, -1, cancel);
                table.Add(topic, partition, committed, end, Math.Max(0, end - committed));
            }
            table.WriteTo(Console.Out);
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command Delete()
    {
        var names = new Argument<string[]>("groups") { Description = "The groups to delete (each must have no members)", Arity = ArgumentArity.OneOrMore };
        var command = new Command("delete", "Delete groups and their committed offsets") { names };
        command.Aliases.Add("rm");
        command.ClientAction(async (parse, client, cancel) =>
        {
            foreach (string g in parse.GetValue(names)!)
            {
                await new GroupAdmin(client).DeleteAsync(g, cancel);
                Console.WriteLine($"deleted {g}");
            }
            return CommandRunner.Done;
        });
        return command;
    }

    private static Command Seek()
    {
        var name = Name();
        var topic = new Option<string>("--topic", "-t") { Description = "The topic whose offsets move", Required = true };
        var to = new Option<string>("--to")
        {
            Description = "start, end, an offset N, or @MS (the first record at or after that Unix time in ms)", Required = true,
        };
        var partitions = new Option<int[]>("--partition", "-p") { Description = "Move only this partition (repeatable; default: all)" };
        var command = new Command("seek", "Set a group's committed offsets on a topic (the group must have no members)") { name, topic, to, partitions };
        command.ClientAction(async (parse, client, cancel) =>
        {
            string groupId = parse.GetValue(name)!, topicName = parse.GetValue(topic)!, target = parse.GetValue(to)!;
            OffsetSpec.Check(target, "--to");
            var info = (await client.MetadataAsync([topicName], cancel)).Topic(topicName);
            var chosen = parse.GetValue(partitions) is { Length: > 0 } some ? some : info.Partitions.Select(p => p.Index).ToArray();
            var offsets = new Dictionary<int, long>();
            foreach (int p in chosen)
            {
                offsets[p] = await OffsetSpec.ResolveAsync(client, topicName, p, target, "--to", cancel);
            }
            await new GroupAdmin(client).CommitAsync(groupId, topicName, offsets, cancel);
            foreach (var (p, offset) in offsets.OrderBy(o => o.Key))
            {
                Console.WriteLine($"{groupId} {topicName}/{p} -> {offset}");
            }
            return CommandRunner.Done;
        });
        return command;
    }
}
