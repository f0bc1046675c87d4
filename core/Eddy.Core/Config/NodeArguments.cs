namespace Eddy.Config;

/// <summary>One flag of `eddy start` and its value, as given.</summary>
public readonly record struct FlagSetting(NodeProperty Property, string Flag, string Value);

/// <summary>Splits `eddy start` arguments into settings (--flag VALUE or --flag=VALUE), naming unknown flags and missing values.</summary>
public static class NodeArguments
{
    /// <summary>The node's settings from every source (eddy.yaml, EDDY_* variables, then these flags); see <see cref="NodeConfigLoader"/>.</summary>
    public static NodeConfig Parse(IReadOnlyList<string> args) => NodeConfigLoader.Load(args);

    /// <summary>The flags in order (a repeated flag: the last one wins), the --config file if given, and one message per problem.</summary>
    public static (List<FlagSetting> Settings, string? ConfigFile, List<string> Errors) Split(IReadOnlyList<string> args)
    {
        var settings = new List<FlagSetting>();
        var errors = new List<string>();
        string? configFile = null;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string flag = arg;
            string? value = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                flag = arg[..eq];
                value = arg[(eq + 1)..];
            }
            var property = NodeProperties.FindByFlag(flag);
            if (property is null && flag != NodeProperties.ConfigFlag)
            {
                errors.Add($"unknown flag '{arg}' (eddy start --help lists the flags)");
                continue;
            }
            if (value is null && property is { IsSwitch: true })
            {
                // --auto-create-topics alone means true; a following true|false is its value.
                bool nextIsBool = i + 1 < args.Count && args[i + 1].ToLowerInvariant() is "true" or "false";
                value = nextIsBool ? args[++i] : "true";
            }
            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    errors.Add($"{flag} needs a value");
                    continue;
                }
                value = args[++i];
            }
            if (property is null)
            {
                configFile = value;
            }
            else
            {
                settings.Add(new FlagSetting(property, flag, value));
            }
        }
        return (settings, configFile, errors);
    }
}
