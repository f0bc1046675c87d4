using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// One request of a connection between being read and being answered: its handler's work (running, maybe on
/// other shards), what the response borrows, and the receive buffer its fields point into. Or a marker that
/// the connection closes once everything before it is sent.
/// </summary>
internal sealed class PendingResponse
{
    public RequestHeader? Header { get; init; }
    public IKafkaApiHandler? Handler { get; init; }

    /// <summary>The handler's work; awaited once, by the sender.</summary>
    public ValueTask<IKafkaMessage?> Work { get; private set; }

    /// <summary>Keeps the handler's work for the sender, which awaits it exactly once, in request order.</summary>
#pragma warning disable CA2012 // stored to be awaited once later, not consumed twice
    public void Start(Func<ValueTask<IKafkaMessage?>> handle)
    {
        StartedTicks = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            Work = handle();
        }
        catch (Exception e)
        {
            Work = ValueTask.FromException<IKafkaMessage?>(e); // reported in order, like an asynchronous failure
        }
    }
#pragma warning restore CA2012

    /// <summary>When the handler started (<see cref="System.Diagnostics.Stopwatch"/> ticks), for the latency metrics.</summary>
    public long StartedTicks { get; private set; }

    /// <summary>A response known at once (KIP-511's ApiVersions answer), written with header version 0.</summary>
    public IKafkaMessage? Immediate { get; init; }
    public int ImmediateCorrelationId { get; init; }

    public ResponseScope Scope { get; } = new();
    public ReceiveBuffer? Buffer { get; init; }

    /// <summary>Set for the close marker: why the connection ends after the responses before it.</summary>
    public string? CloseReason { get; init; }
}
