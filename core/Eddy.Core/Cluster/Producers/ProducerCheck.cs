namespace Eddy.Cluster.Producers;

/// <summary>What to do with an incoming batch, as far as its producer's state is concerned.</summary>
public enum ProducerCheckOutcome : byte
{
    /// <summary>Append it, then <see cref="ProducerStateTable.Record(long, short, int, int, long, long)"/> it.</summary>
    Append,

    /// <summary>A retry of a batch already in the log: do not append; answer with the original's offsets.</summary>
    Duplicate,

    /// <summary>Refuse it with <see cref="ProducerCheckResult.ErrorCode"/>; nothing changes.</summary>
    Error,
}

/// <summary>The answer of <see cref="ProducerStateTable.Check(long, short, int, int, bool)"/>; a plain struct, so
/// checking allocates nothing.</summary>
public readonly struct ProducerCheckResult
{
    private ProducerCheckResult(ProducerCheckOutcome outcome, short errorCode, ProducerBatch duplicate)
    {
        Outcome = outcome;
        ErrorCode = errorCode;
        Duplicate = duplicate;
    }

    public static ProducerCheckResult Append => default;

    public ProducerCheckOutcome Outcome { get; }

    /// <summary>The Kafka error code when <see cref="Outcome"/> is <see cref="ProducerCheckOutcome.Error"/>, else 0.</summary>
    public short ErrorCode { get; }

    /// <summary>The original batch when <see cref="Outcome"/> is <see cref="ProducerCheckOutcome.Duplicate"/>.</summary>
    public ProducerBatch Duplicate { get; }

    public static ProducerCheckResult DuplicateOf(ProducerBatch original) => new(ProducerCheckOutcome.Duplicate, 0, original);

    public static ProducerCheckResult Fail(short errorCode) => new(ProducerCheckOutcome.Error, errorCode, default);

    public override string ToString() => Outcome switch
    {
        ProducerCheckOutcome.Duplicate => $"Duplicate of {Duplicate}",
        ProducerCheckOutcome.Error => $"Error {ErrorCode}",
        _ => "Append",
    };
}
