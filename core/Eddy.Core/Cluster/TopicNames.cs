namespace Eddy.Cluster;

/// <summary>Kafka's topic name rule (org.apache.kafka.common.internals.Topic.validate).</summary>
public static class TopicNames
{
    /// <summary>Kafka's limit: 249 leaves room for the partition suffix in a 255-byte file name.</summary>
    public const int MaxLength = 249;

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || name is "." or "..")
        {
            return false;
        }
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }
        return true;
    }
}
