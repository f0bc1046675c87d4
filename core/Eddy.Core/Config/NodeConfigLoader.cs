using System.Collections;

namespace Eddy.Config;

/// <summary>
/// Builds a <see cref="NodeConfig"/> from its three sources, later ones winning: the configuration file (eddy.yaml),
/// then EDDY_* environment variables, then flags. Every source is checked in full before the node starts: an unknown
/// key, variable or flag, or a bad value in any source (even one a later source overrides) is refused, and all the
/// problems are reported together in a <see cref="NodeConfigException"/>.
/// </summary>
public static class NodeConfigLoader
{
    /// <summary>Loads with this process's environment and working directory.</summary>
    public static NodeConfig Load(IReadOnlyList<string> args)
        => Load(args, ProcessEnvironment(), Directory.GetCurrentDirectory());

    /// <param name="environment">The variables to read (only EDDY_* ones are looked at).</param>
    /// <param name="workingDirectory">Where ./eddy.yaml is looked for, and what a relative --config is relative to.</param>
    public static NodeConfig Load(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var config = new NodeConfig();
        var (flags, configFlag, errors) = NodeArguments.Split(args);
        var variables = Variables(environment, errors, out string? configVariable);

        if (ConfigFile(configFlag, configVariable, workingDirectory, errors) is var (path, shownAs))
        {
            config.ConfigFile = path;
            ApplyFile(config, path, shownAs, errors);
        }
        foreach (var (property, variable, value) in variables)
        {
            Apply(config, property, value, variable, errors);
        }
        foreach (var (property, flag, value) in flags)
        {
            Apply(config, property, value, flag, errors);
        }
        return errors.Count == 0 ? config : throw new NodeConfigException(errors);
    }

    public static IReadOnlyDictionary<string, string> ProcessEnvironment()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string name && name.StartsWith(NodeProperties.EnvironmentPrefix, StringComparison.Ordinal) && entry.Value is string value)
            {
                variables[name] = value;
            }
        }
        return variables;
    }

    // EDDY_* variables in name order (so problems read the same each run). An empty variable counts as unset, as a
    // shell's `EDDY_SMP= eddy start` means.
    private static List<(NodeProperty Property, string Variable, string Value)> Variables(
        IReadOnlyDictionary<string, string> environment, List<string> errors, out string? configVariable)
    {
        configVariable = null;
        var settings = new List<(NodeProperty, string, string)>();
        foreach (var (name, value) in environment.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            if (!name.StartsWith(NodeProperties.EnvironmentPrefix, StringComparison.Ordinal) || value.Length == 0
                || NodeProperties.OtherToolsVariables.Contains(name))
            {
                continue;
            }
            if (name == NodeProperties.ConfigVariable)
            {
                configVariable = value;
            }
            else if (NodeProperties.FindByVariable(name) is { } property)
            {
                settings.Add((property, name, value));
            }
            else
            {
                errors.Add($"{name}: unknown variable (EDDY_* variables set node settings; eddy start --help lists them)");
            }
        }
        return settings;
    }

    // The file's full path, and its name as the user wrote it (what messages show).
    private static (string Path, string ShownAs)? ConfigFile(string? configFlag, string? configVariable, string workingDirectory, List<string> errors)
    {
        var (named, source) = configFlag is not null ? (configFlag, NodeProperties.ConfigFlag)
            : configVariable is not null ? (configVariable, NodeProperties.ConfigVariable)
            : (null, null);
        if (named is null)
        {
            string implicitFile = Path.Combine(workingDirectory, NodeProperties.DefaultConfigFile);
            return File.Exists(implicitFile) ? (implicitFile, NodeProperties.DefaultConfigFile) : null;
        }
        if (named.Length == 0)
        {
            errors.Add($"{source}: the file name is empty");
            return null;
        }
        string path = Path.GetFullPath(named, workingDirectory);
        if (!File.Exists(path))
        {
            errors.Add(Directory.Exists(path) ? $"{source}: '{named}' is a directory, not a file" : $"{source}: '{named}': no such file");
            return null;
        }
        return (path, named);
    }

    private static void ApplyFile(NodeConfig config, string path, string shownAs, List<string> errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{shownAs}: cannot be read: {e.Message}");
            return;
        }
        var (entries, problems) = NodeConfigFile.Read(shownAs, text);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            string at = $"{shownAs}:{entry.Line}";
            var property = NodeProperties.FindByName(entry.Key);
            string? problem = null;
            if (property is null)
            {
                problem = $"{at}: unknown key '{entry.Key}' (eddy start --help and docs/configuration.md list the keys)";
            }
            else if (!seen.TryAdd(entry.Key, entry.Line))
            {
                problem = $"{at}: {entry.Key}: set twice (first at line {seen[entry.Key]})";
            }
            else if (entry.IsList && !property.IsList)
            {
                problem = $"{at}: {entry.Key}: takes one value, not a list";
            }
            else
            {
                var valueErrors = new List<string>(1);
                Apply(config, property, entry.Value, $"{at}: {entry.Key}", valueErrors);
                problem = valueErrors.FirstOrDefault();
            }
            if (problem is not null)
            {
                problems.Add((entry.Line, problem));
            }
        }
        // In file order, as someone fixing the file reads it.
        errors.AddRange(problems.OrderBy(p => p.Line).Select(p => p.Message));
    }

    private static void Apply(NodeConfig config, NodeProperty property, string value, string source, List<string> errors)
    {
        try
        {
            property.Apply(config, value);
        }
        catch (FormatException e)
        {
            errors.Add($"{source}: {e.Message}");
        }
    }
}
