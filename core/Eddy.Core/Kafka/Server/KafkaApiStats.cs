using Eddy.Observability;

namespace Eddy.Kafka.Server;

/// <summary>
/// One shard's Kafka requests since start, by API key: how many were answered, how many failed (the handler or the
/// encoder threw, and the connection closed), and how long each took from being read to its response being written
/// (waiting behind the connection's earlier requests included, as the client sees it). Written by the shard's thread
/// only; copied there for a scrape.
/// </summary>
public sealed class KafkaApiStats
{
    /// <summary>API keys counted: Kafka's go up to the 80s; a key past this is counted under the last.</summary>
    public const int MaxApiKey = 127;

    public long[] Requests { get; } = new long[MaxApiKey + 1];
    public long[] Failures { get; } = new long[MaxApiKey + 1];

    /// <summary>Per API key, made at its first request (most keys are never asked on a node).</summary>
    public LatencyHistogram?[] Latency { get; } = new LatencyHistogram?[MaxApiKey + 1];

    public void Record(short apiKey, long elapsedTicks, bool failed)
    {
        int key = Math.Clamp((int)apiKey, 0, MaxApiKey);
        Requests[key]++;
        if (failed)
        {
            Failures[key]++;
        }
        (Latency[key] ??= new LatencyHistogram()).Record(elapsedTicks);
    }

    /// <summary>Adds <paramref name="other"/>'s counts to this one's.</summary>
    public void Add(KafkaApiStats other)
    {
        for (int key = 0; key <= MaxApiKey; key++)
        {
            Requests[key] += other.Requests[key];
            Failures[key] += other.Failures[key];
            if (other.Latency[key] is { } latency)
            {
                (Latency[key] ??= new LatencyHistogram()).Add(latency);
            }
        }
    }
}
