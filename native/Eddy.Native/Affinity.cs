namespace Eddy.Native;

/// <summary>CPU affinity of the calling thread (sched_setaffinity with pid 0).</summary>
public static unsafe class Affinity
{
    private const int MaskWords = 16; // 1024 CPUs

    /// <summary>The CPUs this process may run on, in ascending order.</summary>
    public static int[] AllowedCpus()
    {
        ulong* mask = stackalloc ulong[MaskWords];
        if (Libc.SchedGetaffinity(0, MaskWords * sizeof(ulong), mask) < 0)
        {
            throw new NativeException("sched_getaffinity", Errno.Last);
        }
        var cpus = new List<int>();
        for (int cpu = 0; cpu < MaskWords * 64; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0)
            {
                cpus.Add(cpu);
            }
        }
        return cpus.ToArray();
    }

    /// <summary>Pins the calling thread to one CPU.</summary>
    public static void PinCurrentThread(int cpu)
    {
        if ((uint)cpu >= MaskWords * 64)
        {
            throw new ArgumentOutOfRangeException(nameof(cpu));
        }
        ulong* mask = stackalloc ulong[MaskWords];
        for (int i = 0; i < MaskWords; i++)
        {
            mask[i] = 0;
        }
        mask[cpu / 64] = 1UL << (cpu % 64);
        if (Libc.SchedSetaffinity(0, MaskWords * sizeof(ulong), mask) < 0)
        {
            throw new NativeException($"sched_setaffinity(cpu {cpu})", Errno.Last);
        }
    }

    public static int CurrentThreadId() => Libc.GetTid();
}
