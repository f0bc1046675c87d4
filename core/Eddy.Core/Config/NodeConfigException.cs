namespace Eddy.Config;

/// <summary>The node's settings were refused: one line per problem, each naming the key and where it came from
/// (a flag, an EDDY_* variable, or file:line).</summary>
public sealed class NodeConfigException : ArgumentException
{
    public NodeConfigException(IReadOnlyList<string> problems)
        : base(string.Join('\n', problems))
    {
        Problems = problems;
    }

    public NodeConfigException()
        : this([])
    {
    }

    public NodeConfigException(string message)
        : this([message])
    {
    }

    public NodeConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    public IReadOnlyList<string> Problems { get; }
}
