namespace Eddy.Raft.Simulator;

/// <summary>SplitMix64: the one random source of a run, so a seed replays exactly.</summary>
internal sealed class SimRandom
{
    private ulong state;

    public SimRandom(ulong seed) => state = seed;

    public ulong Next()
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, bound).</summary>
    public int Int(int bound) => bound <= 1 ? 0 : (int)(Next() % (ulong)bound);
    public int Between(int min, int maxInclusive) => min + Int(maxInclusive - min + 1);
    public double Double() => (Next() >> 11) * (1.0 / (1UL << 53));
    public bool Chance(double p) => p > 0 && Double() < p;
    public T Pick<T>(IReadOnlyList<T> items) => items[Int(items.Count)];
    public T OneOf<T>(params ReadOnlySpan<T> items) => items[Int(items.Length)];
}

/// <summary>A running hash of every event of a run: two runs of one seed must end equal.</summary>
internal sealed class EventLog
{
    public ulong Hash { get; private set; } = 0xCBF29CE484222325UL;
    public long Count { get; private set; }

    public void Add(long kind, long a = 0, long b = 0, long c = 0, long d = 0)
    {
        Count++;
        Hash = Mix(Mix(Mix(Mix(Mix(Hash, kind), a), b), c), d);
    }

    public static ulong Mix(ulong h, long v)
    {
        h ^= (ulong)v;
        h *= 0x100000001B3UL;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9UL;
        return h ^ (h >> 32);
    }

    public static ulong HashBytes(ReadOnlySpan<byte> data)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (byte b in data) h = (h ^ b) * 0x100000001B3UL;
        return h;
    }
}
