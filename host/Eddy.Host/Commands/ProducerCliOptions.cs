using System.CommandLine;
using Eddy.Client.Producing;
using Eddy.Records;

namespace Eddy.Host.Commands;

/// <summary>The producer settings `eddy produce` and `eddy bench produce` share.</summary>
internal sealed class ProducerCliOptions
{
    public readonly Option<string> Acks = new("--acks", "-a") { Description = "all (-1), 1 or 0", DefaultValueFactory = _ => "all" };
    public readonly Option<int> LingerMs = new("--linger-ms", "-l") { Description = "How long a batch waits for more records", DefaultValueFactory = _ => 5 };
    public readonly Option<string> Compression = new("--compression", "-z") { Description = "none, gzip, snappy, lz4 or zstd", DefaultValueFactory = _ => "none" };
    public readonly Option<bool> NoIdempotence = new("--no-idempotence") { Description = "Send without a producer id and sequences (always so when acks is not all)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Acks);
        command.Options.Add(LingerMs);
        command.Options.Add(Compression);
        command.Options.Add(NoIdempotence);
    }

    public ProducerOptions Read(ParseResult parse)
    {
        short acks = parse.GetValue(Acks) switch
        {
            "all" or "-1" => -1,
            "1" => 1,
            "0" => 0,
            var other => throw new UsageException($"--acks {other}: expected all, 1 or 0"),
        };
        var codec = parse.GetValue(Compression) switch
        {
            "none" => CompressionType.None,
            "gzip" => CompressionType.Gzip,
            "snappy" => CompressionType.Snappy,
            "lz4" => CompressionType.Lz4,
            "zstd" => CompressionType.Zstd,
            var other => throw new UsageException($"--compression {other}: expected none, gzip, snappy, lz4 or zstd"),
        };
        int linger = parse.GetValue(LingerMs);
        if (linger < 0)
        {
            throw new UsageException($"--linger-ms {linger}: must be 0 or more");
        }
        return new ProducerOptions
        {
            Acks = acks, Compression = codec, Linger = TimeSpan.FromMilliseconds(linger),
            Idempotent = acks == -1 && !parse.GetValue(NoIdempotence),
        };
    }
}
