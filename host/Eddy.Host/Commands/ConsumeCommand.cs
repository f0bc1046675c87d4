using System.CommandLine;
using System.Text;
using Eddy.Client;
using Eddy.Client.Consuming;
using Eddy.Records;

namespace Eddy.Host.Commands;

/// <summary>`eddy consume TOPIC`: prints records as a format string says, from a chosen offset, until a count, the
/// end of the log, or Ctrl-C.</summary>
internal static class ConsumeCommand
{
    public static Command Build()
    {
        var topic = new Argument<string>("topic") { Description = "The topic to read" };
        var offset = new Option<string>("--offset", "-o")
        {
            Description = "Where to start in each partition: start, end, an offset N, or @MS for the first record at or after that Unix time in ms",
            DefaultValueFactory = _ => "start",
        };
        var partitions = new Option<int[]>("--partition", "-p") { Description = "Read only this partition (repeatable; default: all)" };
        var count = new Option<long>("--count", "-n") { Description = "Stop after this many records (default: no limit)", DefaultValueFactory = _ => -1 };
        var exitAtEnd = new Option<bool>("--exit-at-end", "-e") { Description = "Stop once every partition is read to its end" };
        var format = new Option<string>("--format", "-f")
        {
            Description = @"How each record prints: %t topic, %p partition, %o offset, %k key, %v value, %T timestamp (ms), %h headers, %% a percent sign; \n and \t",
            DefaultValueFactory = _ => @"%v\n",
        };
        var group = new Option<string?>("--group", "-g")
        {
            Description = "Join this consumer group: read the partitions it assigns, from its committed offsets (--offset where it has none), committing what was read",
        };
        var command = new Command("consume", "Print a topic's records") { topic, offset, partitions, count, exitAtEnd, format, group };
        command.ClientAction(async (parse, client, cancel) =>
        {
            string name = parse.GetValue(topic)!;
            OffsetSpec.Check(parse.GetValue(offset)!, "--offset");
            var printer = new RecordFormat(parse.GetValue(format)!);
            var info = (await client.MetadataAsync([name], cancel)).Topic(name);
            var chosen = parse.GetValue(partitions) is { Length: > 0 } some ? some : info.Partitions.Select(p => p.Index).ToArray();
            foreach (int p in chosen.Where(p => p < 0 || p >= info.Partitions.Count))
            {
                throw new UsageException($"--partition {p}: {name} has partitions 0 to {info.Partitions.Count - 1}");
            }
            string? groupId = parse.GetValue(group);
            if (groupId is not null && parse.GetValue(partitions) is { Length: > 0 })
            {
                throw new UsageException("--partition with --group: a group member reads the partitions the group gives it");
            }
            string start = parse.GetValue(offset)!;
            long limit = parse.GetValue(count), printed = 0;
            var output = Console.Out;
            await using var member = groupId is null ? null : await GroupMember.JoinAsync(client, groupId, [name], cancel);
            var (fetcher, assigned) = await AssignAsync(client, name, member?.Assignment.Select(a => a.Partition).ToArray() ?? chosen, groupId, start, cancel);
            // What a commit records: the offset after the last record printed, not the fetcher's position, which passes
            // records fetched but left unprinted by --count (the next reader in the group must still get them).
            var next = fetcher.Positions.ToDictionary(p => p.Key, p => p.Value);
            try
            {
                while (limit < 0 || printed < limit)
                {
                    if (member is { RebalanceNeeded: true })
                    {
                        await CommitAsync(member, next);
                        await member.RejoinAsync(cancel);
                        (fetcher, assigned) = await AssignAsync(client, name, member.Assignment.Select(a => a.Partition).ToArray(), groupId, start, cancel);
                        next = fetcher.Positions.ToDictionary(p => p.Key, p => p.Value);
                    }
                    if (assigned.Length == 0)
                    {
                        if (parse.GetValue(exitAtEnd))
                        {
                            break;
                        }
                        await Task.Delay(200, cancel);
                        continue;
                    }
                    await fetcher.FetchAsync((string t, int p, in Record r) =>
                    {
                        if (limit < 0 || printed < limit)
                        {
                            printer.Write(output, t, p, r);
                            printed++;
                            next[(t, p)] = r.Offset + 1;
                        }
                    }, cancel);
                    await output.FlushAsync(cancel);
                    if (parse.GetValue(exitAtEnd) && assigned.All(p => fetcher.Positions[(name, p)] >= fetcher.HighWatermark(name, p) && fetcher.HighWatermark(name, p) >= 0))
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                // Ctrl-C: a normal way to stop following a topic.
            }
            if (member is not null)
            {
                await CommitAsync(member, next);
            }
            await output.FlushAsync(CancellationToken.None);
            return CommandRunner.Done;
        });
        return command;
    }

    /// <summary>A fetcher over <paramref name="partitions"/>, each from the group's committed offset when it has one,
    /// else from <paramref name="start"/>.</summary>
    private static async Task<(Fetcher, int[])> AssignAsync(KafkaClient client, string topic, int[] partitions, string? group, string start, CancellationToken cancel)
    {
        var committed = group is null ? new Dictionary<int, long>() : await new GroupAdmin(client).CommittedAsync(group, topic, cancel);
        var fetcher = new Fetcher(client);
        foreach (int p in partitions)
        {
            fetcher.Assign(topic, p, committed.TryGetValue(p, out long at) && at >= 0 ? at : await OffsetSpec.ResolveAsync(client, topic, p, start, "--offset", cancel));
        }
        return (fetcher, partitions);
    }

    /// <summary>Commits where the member got to (the offset after the last record it printed, per partition); a generation that has already moved on refuses it, and the next
    /// owner of those partitions starts from the last commit instead (a record may be printed twice, never skipped).</summary>
    private static async Task CommitAsync(GroupMember member, Dictionary<(string Topic, int Partition), long> next)
    {
        if (next.Count == 0)
        {
            return;
        }
        try
        {
            await member.CommitAsync(next, CancellationToken.None);
        }
        catch (KafkaException e) when (e.ErrorCode is Eddy.Errors.KafkaErrors.IllegalGeneration or Eddy.Errors.KafkaErrors.RebalanceInProgress
            or Eddy.Errors.KafkaErrors.UnknownMemberId)
        {
        }
    }
}

/// <summary>A consume format string, parsed once: literal text and %-fields.</summary>
internal sealed class RecordFormat
{
    private readonly List<(char Field, string Text)> _parts = new();

    public RecordFormat(string format)
    {
        var literal = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c == '\\' && i + 1 < format.Length && format[i + 1] is 'n' or 't' or '\\')
            {
                literal.Append(format[++i] switch { 'n' => '\n', 't' => '\t', _ => '\\' });
            }
            else if (c == '%' && i + 1 < format.Length)
            {
                char field = format[++i];
                if (field == '%')
                {
                    literal.Append('%');
                    continue;
                }
                if ("tpokvTh".IndexOf(field) < 0)
                {
                    throw new UsageException($"--format: unknown field %{field} (known: %t %p %o %k %v %T %h %%)");
                }
                _parts.Add(('\0', literal.ToString()));
                literal.Clear();
                _parts.Add((field, ""));
            }
            else
            {
                literal.Append(c);
            }
        }
        _parts.Add(('\0', literal.ToString()));
    }

    public void Write(TextWriter output, string topic, int partition, in Record record)
    {
        foreach (var (field, text) in _parts)
        {
            switch (field)
            {
                case '\0': output.Write(text); break;
                case 't': output.Write(topic); break;
                case 'p': output.Write(partition); break;
                case 'o': output.Write(record.Offset); break;
                case 'k': output.Write(record.HasKey ? Encoding.UTF8.GetString(record.Key) : ""); break;
                case 'v': output.Write(record.HasValue ? Encoding.UTF8.GetString(record.Value) : ""); break;
                case 'T': output.Write(record.Timestamp); break;
                case 'h':
                    bool first = true;
                    foreach (var header in record.Headers)
                    {
                        output.Write(first ? "" : ",");
                        output.Write(Encoding.UTF8.GetString(header.Key));
                        output.Write('=');
                        output.Write(Encoding.UTF8.GetString(header.Value));
                        first = false;
                    }
                    break;
            }
        }
    }
}
