using System.CommandLine;
using System.Text;
using Eddy.Client;
using Eddy.Client.Producing;
using Eddy.Errors;

namespace Eddy.Host.Commands;

/// <summary>`eddy produce TOPIC`: each line of stdin becomes one record.</summary>
internal static class ProduceCommand
{
    public static Command Build()
    {
        var topic = new Argument<string>("topic") { Description = "The topic to produce to" };
        var key = new Option<string?>("--key", "-k") { Description = "The key of every record (default: none)" };
        var separator = new Option<string?>("--key-separator", "-K") { Description = "Split each line at the first SEP into key and value" };
        var headers = new Option<string[]>("--header", "-H") { Description = "A header on every record, name=value (repeatable)" };
        var partition = new Option<int>("--partition", "-p") { Description = "The partition (default: by key, else the one being filled)", DefaultValueFactory = _ => -1 };
        var options = new ProducerCliOptions();
        var command = new Command("produce", "Produce the lines of stdin as records, one per line") { topic, key, separator, headers, partition };
        options.AddTo(command);
        command.ClientAction(async (parse, client, cancel) =>
        {
            string name = parse.GetValue(topic)!;
            string? fixedKey = parse.GetValue(key), sep = parse.GetValue(separator);
            var recordHeaders = CliOptions.Pairs(parse.GetValue(headers), "--header")
                .Select(h => new KeyValuePair<string, byte[]?>(h.Key, Encoding.UTF8.GetBytes(h.Value))).ToArray();
            long delivered = 0, failed = 0;
            short firstError = 0;
            await using var producer = await Producer.CreateAsync(client, options.Read(parse) with
            {
                OnDelivery = (_, _, _, error) =>
                {
                    if (error == KafkaErrors.None)
                    {
                        Interlocked.Increment(ref delivered);
                    }
                    else if (Interlocked.Increment(ref failed) == 1)
                    {
                        firstError = error;
                    }
                },
            }, cancel);
            long produced = 0;
            while (await Console.In.ReadLineAsync(cancel) is { } line)
            {
                string value = line;
                string? recordKey = fixedKey;
                if (sep is { Length: > 0 } && line.IndexOf(sep, StringComparison.Ordinal) is int at and >= 0)
                {
                    (recordKey, value) = (line[..at], line[(at + sep.Length)..]);
                }
                await producer.ProduceAsync(name, parse.GetValue(partition), recordKey is null ? null : Encoding.UTF8.GetBytes(recordKey),
                    Encoding.UTF8.GetBytes(value), recordHeaders, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), produced++, cancel);
            }
            await producer.FlushAsync(cancel);
            if (failed > 0)
            {
                throw KafkaException.For($"{failed} of {produced} records not produced to {name}", firstError);
            }
            await Console.Error.WriteLineAsync($"produced {delivered} records to {name}");
            return CommandRunner.Done;
        });
        return command;
    }
}
