using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Eddy.Raft;

/// <summary>A broken invariant means the core (or its driver) has a bug: stop rather than corrupt a log.</summary>
public sealed class RaftInvariantException : Exception
{
    public RaftInvariantException() { }
    public RaftInvariantException(string message) : base(message) { }
    public RaftInvariantException(string message, Exception inner) : base(message, inner) { }
}

internal static class Invariant
{
    // Messages are constant strings so that a passing check costs a branch, never an allocation.
    [StackTraceHidden]
    public static void True([DoesNotReturnIf(false)] bool condition, string what)
    {
        if (!condition) Fail(what);
    }

    [DoesNotReturn, StackTraceHidden]
    private static void Fail(string what) => throw new RaftInvariantException("raft invariant broken: " + what);
}
