namespace Eddy.Bench.Runtime;

internal static class Percentiles
{
    public static string Describe(long[] nanos)
    {
        Array.Sort(nanos);
        double P(double q) => nanos[Math.Min(nanos.Length - 1, (int)(q * nanos.Length))] / 1000.0;
        return $"p50 {P(0.50):F1} us, p99 {P(0.99):F1} us, p99.9 {P(0.999):F1} us (n={nanos.Length})";
    }
}
