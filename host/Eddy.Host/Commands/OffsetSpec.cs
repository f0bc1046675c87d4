using Eddy.Client;
using Eddy.Client.Consuming;

namespace Eddy.Host.Commands;

/// <summary>An offset as the CLI takes it: start, end, an offset, or @MS.</summary>
internal static class OffsetSpec
{
    /// <summary>Throws bad usage for a spec in none of the forms, before anything is asked of the cluster.</summary>
    public static void Check(string spec, string option)
    {
        bool valid = spec is "start" or "beginning" or "earliest" or "end" or "latest"
            || spec.StartsWith('@') && long.TryParse(spec.AsSpan(1), out long ms) && ms >= 0
            || long.TryParse(spec, out long offset) && offset >= 0;
        if (!valid)
        {
            throw new UsageException($"{option} {spec}: expected start, end, an offset, or @MS");
        }
    }

    public static async Task<long> ResolveAsync(KafkaClient client, string topic, int partition, string spec, string option, CancellationToken cancel)
    {
        Check(spec, option);
        switch (spec)
        {
            case "start" or "beginning" or "earliest":
                return await Fetcher.OffsetForAsync(client, topic, partition, -2, cancel);
            case "end" or "latest":
                return await Fetcher.OffsetForAsync(client, topic, partition, -1, cancel);
        }
        if (spec.StartsWith('@'))
        {
            return await Fetcher.OffsetForAsync(client, topic, partition, long.Parse(spec.AsSpan(1)), cancel);
        }
        return long.Parse(spec);
    }
}
