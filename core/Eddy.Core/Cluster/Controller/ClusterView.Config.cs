using System.Collections.Frozen;
using Eddy.Rpc;

namespace Eddy.Cluster;

/// <summary>The cluster's config: the cluster properties set, and how many changes made it.</summary>
public sealed partial record ClusterView
{
    /// <summary>The cluster properties set, by name, as canonical text (<see cref="ClusterProperties"/>). A name this
    /// version does not know (set by a newer node) is kept and ignored.</summary>
    public FrozenDictionary<string, string> Config { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>The number of config changes applied; a node that applied version N holds the same config as every
    /// other node that did.</summary>
    public long ConfigVersion { get; init; }

    private ClusterView ApplyConfigChange(IReadOnlyList<KeyValuePair<string, string>> upserts, IReadOnlyList<string> removes)
    {
        var config = new Dictionary<string, string>(Config, StringComparer.Ordinal);
        foreach (string name in removes)
        {
            config.Remove(name);
        }
        foreach (var (name, value) in upserts)
        {
            if (config.Count < ClusterProperties.MaxEntries || config.ContainsKey(name))
            {
                config[name] = value;
            }
        }
        return this with { Config = config.ToFrozenDictionary(StringComparer.Ordinal), ConfigVersion = ConfigVersion + 1 };
    }

    private void WriteConfig(RpcWriter writer)
    {
        writer.WriteInt64(ConfigVersion);
        writer.WriteInt32(Config.Count);
        foreach (var (name, value) in Config.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            writer.WriteString(name, ClusterProperties.MaxNameBytes);
            writer.WriteString(value, ClusterProperties.MaxValueBytes);
        }
    }

    private static (long Version, FrozenDictionary<string, string> Config) ReadConfig(ref RpcReader reader)
    {
        long version = reader.ReadInt64();
        int count = reader.ReadCount(4);
        if (version < 0 || count > ClusterProperties.MaxEntries)
        {
            throw new RpcFormatException($"a cluster config of version {version} with {count} properties");
        }
        var config = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            config[reader.ReadString(ClusterProperties.MaxNameBytes)] = reader.ReadString(ClusterProperties.MaxValueBytes);
        }
        return (version, config.ToFrozenDictionary(StringComparer.Ordinal));
    }
}
