namespace Eddy.Raft.Simulator;

internal static class Bench
{
    public static int Run(TextWriter output)
    {
        output.WriteLine("bench: not yet");
        return 0;
    }
}
