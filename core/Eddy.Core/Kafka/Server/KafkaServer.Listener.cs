using Eddy.Net;
using Eddy.Observability;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Kafka.Server;

/// <summary>Closing and opening the Kafka listener while the node runs: its Kafka role switched off and on
/// (<see cref="Cluster.NodeRoles"/>). It listens again on the port it bound at start, which the cluster has recorded.</summary>
public sealed partial class KafkaServer
{
    /// <summary>Where the listener is switched, one switch (or the stop) at a time.</summary>
    public const int ListenerShard = 0;

    private readonly AsyncGate _switch = new(); // ListenerShard only
    private volatile bool _closed;

    /// <summary>Stops accepting Kafka connections and closes those open as <see cref="StopAsync"/> does (each finishes
    /// the requests it has read), waiting up to <paramref name="drainTimeout"/>. The node keeps running. On
    /// <see cref="ListenerShard"/>.</summary>
    public async Task CloseListenerAsync(TimeSpan drainTimeout)
    {
        _group[ListenerShard].AssertCurrent();
        await _switch.EnterAsync();
        try
        {
            if (_stopping || _tcp is null)
            {
                return;
            }
            _closed = true;
            await _tcp.DisposeAsync();
            _tcp = null;
            await DrainAsync(drainTimeout);
            Log.Info("kafka", $"stopped listening for Kafka clients on {_bound}");
        }
        finally
        {
            _switch.Exit();
        }
    }

    /// <summary>Listens for Kafka connections again on the address and port bound at start. Throws when the port cannot
    /// be bound (another process took it meanwhile). On <see cref="ListenerShard"/>.</summary>
    public async Task OpenListenerAsync()
    {
        _group[ListenerShard].AssertCurrent();
        await _switch.EnterAsync();
        try
        {
            if (_stopping || _tcp is not null)
            {
                return;
            }
            _tcp = await TcpServer.StartAsync(_group, _bound, ServeAsync);
            _closed = false;
            Log.Info("kafka", $"listening for Kafka clients on {_bound} again");
        }
        finally
        {
            _switch.Exit();
        }
    }
}
