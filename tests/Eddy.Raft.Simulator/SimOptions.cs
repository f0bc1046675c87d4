using Eddy.Raft;

namespace Eddy.Raft.Simulator;

internal sealed class SimOptions
{
    public const int DefaultSeeds = 1000;
    public const int DefaultTicks = 20_000;

    public int Nodes { get; init; } = 5;
    public int Groups { get; init; } = 3;
    /// <summary>Ticks of faults; the liveness phase (healed) comes after, up to LivenessBound.</summary>
    public int Ticks { get; init; } = DefaultTicks;
    public PlantedBug Bug { get; init; }

    public static PlantedBug ParseBug(string name) => name switch
    {
        "commit-old-term" => PlantedBug.CommitOldTerm,
        "forget-vote" => PlantedBug.ForgetVote,
        "stale-read" => PlantedBug.StaleRead,
        "skip-prev-check" => PlantedBug.SkipPrevCheck,
        "none" => PlantedBug.None,
        _ => throw new ArgumentException($"unknown bug '{name}' (commit-old-term, forget-vote, stale-read, skip-prev-check)"),
    };
}

/// <summary>
/// How hostile one seed's world is. Drawn from the seed, so the seed budget sweeps calm and
/// violent worlds, small and large batches, fast and slow disks.
/// </summary>
internal sealed class FaultProfile
{
    public FaultProfile(SimRandom random)
    {
        ElectionTicks = random.OneOf(8, 10, 16);
        HeartbeatTicks = random.Between(1, 3);
        MaxEntriesPerMessage = random.OneOf(1, 2, 8, 64);
        MaxInflight = random.OneOf(1, 4, 32);
        MaxUncommitted = random.OneOf(64, 512);
        Loss = random.OneOf(0.0, 0.02, 0.1, 0.25);
        Duplicate = random.OneOf(0.0, 0.02, 0.1);
        DelayMax = random.Between(1, 5);
        LongDelay = random.OneOf(0.0, 0.02, 0.1);
        LongDelayMax = random.Between(10, 60);
        CrashRate = random.OneOf(0.0, 0.001, 0.004, 0.01);
        RestartMax = random.OneOf(5, 30, 200);
        TornWrite = random.OneOf(0.0, 0.5);
        CrashAfterIo = random.OneOf(0.0, 0.0, 0.002, 0.01);
        PartitionRate = random.OneOf(0.0, 0.002, 0.01, 0.05);
        HealRate = random.OneOf(0.005, 0.02, 0.1);
        FsyncMax = random.OneOf(0, 1, 3);
        Skew = random.OneOf(0.0, 0.1, 0.3);
        ProposeRate = random.OneOf(0.05, 0.3, 1.0);
        ReadRate = random.OneOf(0.02, 0.3);
        MembershipRate = random.OneOf(0.0, 0.002, 0.01);
        TransferRate = random.OneOf(0.0, 0.002, 0.01);
        CompactEvery = random.OneOf(16, 100, 500);
        MaxEntrySpan = random.OneOf(1, 4, 16);
    }

    public int ElectionTicks { get; }
    public int HeartbeatTicks { get; }
    public int MaxEntriesPerMessage { get; }
    public int MaxInflight { get; }
    public int MaxUncommitted { get; }
    public double Loss { get; set; }
    public double Duplicate { get; set; }
    public int DelayMax { get; set; }
    public double LongDelay { get; set; }
    public int LongDelayMax { get; }
    public double CrashRate { get; }
    public int RestartMax { get; }
    public double TornWrite { get; }
    /// <summary>Crash points at I/O boundaries: right after a node's fsync completed and its messages left.</summary>
    public double CrashAfterIo { get; }
    public double PartitionRate { get; }
    public double HealRate { get; }
    public int FsyncMax { get; }
    public double Skew { get; }
    public double ProposeRate { get; }
    public double ReadRate { get; }
    public double MembershipRate { get; }
    public double TransferRate { get; }
    public int CompactEvery { get; }
    /// <summary>Proposals cover 1 to this many indices, as a partition's record batches cover their records' offsets.</summary>
    public int MaxEntrySpan { get; }

    /// <summary>
    /// After the faults stop: a leader and full replication are due within this many ticks. Time to
    /// elect, plus time to ship the largest possible backlog (the uncompacted log and the uncommitted
    /// tail) through the flow-control window, at twice the worst round trip.
    /// </summary>
    public int LivenessBound
    {
        get
        {
            int backlog = CompactEvery + MaxUncommitted;
            int perRoundTrip = Math.Max(1, MaxEntriesPerMessage * MaxInflight);
            int roundTrip = 2 * (DelayMax + FsyncMax + 1) + HeartbeatTicks;
            return 60 * ElectionTicks + 2 * roundTrip * (backlog / perRoundTrip + 1);
        }
    }

    public void Calm()
    {
        Loss = 0;
        Duplicate = 0;
        LongDelay = 0;
        DelayMax = Math.Min(DelayMax, 2);
    }
}
