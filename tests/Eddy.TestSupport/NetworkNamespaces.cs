namespace Eddy.TestSupport;

/// <summary>
/// One network namespace per node, each joined by a veth pair to a bridge in this namespace, which holds the first
/// address of the subnet: nodes reach each other and this process reaches them, over real links that a test can cut
/// (<see cref="Cut"/>: the bridge side of a node's pair goes down) and heal. Needs root and ip(8); everything it made
/// is removed on dispose.
/// </summary>
public sealed class NetworkNamespaces : IDisposable
{
    private readonly string _tag = Guid.NewGuid().ToString("N")[..6];
    private readonly string _subnet;
    private readonly int _count;

    public NetworkNamespaces(int count)
    {
        Assert.True(Environment.UserName == "root", "network namespaces need root (CI runs as root)");
        _count = count;
        int seed = Convert.ToInt32(_tag[..4], 16);
        _subnet = $"10.{200 + seed % 50}.{seed / 50 % 250}";
        try
        {
            Ip($"link add {Bridge} type bridge");
            Ip($"addr add {_subnet}.1/24 dev {Bridge}");
            Ip($"link set {Bridge} up");
            for (int node = 1; node <= count; node++)
            {
                string ns = Namespace(node);
                Ip($"netns add {ns}");
                Ip($"link add {Outside(node)} type veth peer name eth0 netns {ns}");
                Ip($"link set {Outside(node)} master {Bridge} up");
                Ip($"-n {ns} addr add {Address(node)}/24 dev eth0");
                Ip($"-n {ns} link set eth0 up");
                Ip($"-n {ns} link set lo up");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private string Bridge => $"eb{_tag}";

    private string Outside(int node) => $"ev{_tag}{node}";

    public string Namespace(int node) => $"eddy-{_tag}-{node}";

    /// <summary>Node <paramref name="node"/>'s address inside its namespace.</summary>
    public string Address(int node) => $"{_subnet}.{10 + node}";

    /// <summary>Runs a command inside node <paramref name="node"/>'s namespace (ip netns exec execs in place).</summary>
    public string[] Launcher(int node) => ["ip", "netns", "exec", Namespace(node)];

    /// <summary>Cuts node <paramref name="node"/> off: nothing goes in or out of its namespace until <see cref="Heal"/>.</summary>
    public void Cut(int node) => Ip($"link set {Outside(node)} down");

    public void Heal(int node) => Ip($"link set {Outside(node)} up");

    public void Dispose()
    {
        for (int node = 1; node <= _count; node++)
        {
            TryIp($"netns del {Namespace(node)}"); // takes its end of the veth pair, and so the pair, with it
        }
        TryIp($"link del {Bridge}");
    }

    private static void Ip(string arguments)
    {
        var (code, output) = Run(arguments);
        Assert.True(code == 0, $"ip {arguments}: {output}");
    }

    private static void TryIp(string arguments) => Run(arguments);

    // Called from the constructor and Dispose, so it waits here; ip(8) returns at once.
    private static (int, string) Run(string arguments)
    {
        var (code, output, error) = ChildProcess.RunAsync("ip", null, arguments.Split(' ')).GetAwaiter().GetResult();
        return (code, output + error);
    }
}
