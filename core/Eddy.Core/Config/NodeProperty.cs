namespace Eddy.Config;

/// <summary>
/// One node setting, as every source names it: the eddy.yaml key <see cref="Name"/> (<c>kafka_addr</c>), the flag
/// (<c>--kafka-addr</c>) and the environment variable (<c>EDDY_KAFKA_ADDR</c>) are all derived from it, and one
/// <see cref="ValueSyntax{T}"/> parses the value from any of them, so the three sources cannot disagree.
/// </summary>
public abstract class NodeProperty
{
    private protected NodeProperty(string name, string description, string? unit)
    {
        Name = name;
        Description = description;
        Unit = unit;
    }

    /// <summary>The eddy.yaml key, lower_snake_case.</summary>
    public string Name { get; }

    public string Flag => "--" + Name.Replace('_', '-');

    public string EnvironmentVariable => NodeProperties.EnvironmentPrefix + Name.ToUpperInvariant();

    public string Description { get; }

    /// <summary>The unit of a number (bytes, ...); null when the value has none.</summary>
    public string? Unit { get; }

    /// <summary>How the value is written (<c>HOST:PORT</c>, <c>N</c>, ...).</summary>
    public abstract string Syntax { get; }

    /// <summary>The accepted range or choices where <see cref="Syntax"/> does not say; null when it does.</summary>
    public abstract string? Bounds { get; }

    /// <summary>The default, read off a fresh <see cref="NodeConfig"/>, in words where it is not a plain value.</summary>
    public abstract string Default { get; }

    /// <summary>True for a list: comma-separated in a flag or variable, a YAML list or a comma-separated string in eddy.yaml.</summary>
    public abstract bool IsList { get; }

    /// <summary>True for a true|false property whose flag alone means true (<c>--auto-create-topics</c>).</summary>
    public abstract bool IsSwitch { get; }

    /// <summary>Parses <paramref name="text"/> and stores it in <paramref name="config"/>; <see cref="FormatException"/> names the bad value.</summary>
    public abstract void Apply(NodeConfig config, string text);

    /// <summary>The value <paramref name="config"/> holds, as --help and the admin API's /v1/node_config show it.</summary>
    public abstract string Show(NodeConfig config);
}

/// <summary>A node property whose values are <typeparamref name="T"/>.</summary>
public sealed class NodeProperty<T> : NodeProperty
{
    private readonly ValueSyntax<T> _syntax;
    private readonly Action<NodeConfig, T> _set;
    private readonly Func<NodeConfig, string> _describe;

    /// <param name="describe">Reads the value off a NodeConfig: off a fresh one, the default (so the default lives in
    /// one place, NodeConfig).</param>
    public NodeProperty(string name, ValueSyntax<T> syntax, Action<NodeConfig, T> set, Func<NodeConfig, string> describe,
        string description, string? unit = null)
        : base(name, description, unit)
    {
        _syntax = syntax;
        _set = set;
        _describe = describe;
    }

    public override string Syntax => _syntax.Syntax;
    public override string? Bounds => _syntax.Bounds;
    public override string Default => _describe(new NodeConfig());
    public override string Show(NodeConfig config) => _describe(config);
    public override bool IsList => typeof(T) == typeof(IReadOnlyList<string>);
    public override bool IsSwitch => typeof(T) == typeof(bool);

    public override void Apply(NodeConfig config, string text) => _set(config, _syntax.Parse(text));
}
