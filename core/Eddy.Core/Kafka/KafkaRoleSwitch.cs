using Eddy.Cluster;
using Eddy.Kafka.Server;
using Eddy.Observability;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Kafka;

/// <summary>
/// Turns this node's Kafka role off and on as the cluster's config says (<see cref="NodeRoles"/>), without a restart.
/// Off: the replicas here hand their leadership to other replicas and decline it from then on (as at a SIGTERM), then
/// the Kafka listener closes and its connections drain; Metadata on every node stops listing this one. On: the listener
/// opens again on the port the cluster recorded, and the replicas take leadership again (the preferred ones get it
/// back at the next rebalance). Runs on the controller's shard, one switch at a time, always toward the config's
/// latest word.
/// </summary>
internal sealed class KafkaRoleSwitch
{
    /// <summary>How long the connections of a closing listener get to finish the requests they have read.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly Broker _broker;
    private readonly KafkaServer _server;
    private readonly AsyncGate _gate = new(); // Controller.Shard only
    private bool _serving = true;
    private bool _stopped;

    public KafkaRoleSwitch(Broker broker, KafkaServer server)
    {
        if (Controller.Shard != KafkaServer.ListenerShard)
        {
            throw new InvalidOperationException("the listener is switched on the controller's shard");
        }
        _broker = broker;
        _server = server;
    }

    /// <summary>Follows the config from now on, starting with the one in force. From outside the shards.</summary>
    public Task StartAsync(ShardGroup shards) => shards.InvokeAsync(Controller.Shard, () =>
    {
        _broker.Controller.ConfigChanged = OnConfigChanged;
        return new ValueTask(SwitchAsync());
    });

    /// <summary>Stops following the config and waits for a switch in progress. From outside the shards.</summary>
    public Task StopAsync(ShardGroup shards) => shards.InvokeAsync(Controller.Shard, async () =>
    {
        _broker.Controller.ConfigChanged = null;
        await _gate.EnterAsync();
        _stopped = true;
        _gate.Exit();
    });

    private void OnConfigChanged(ClusterView view) => _ = SwitchAsync();

    private async Task SwitchAsync()
    {
        await _gate.EnterAsync();
        try
        {
            var controller = _broker.Controller;
            bool wanted = NodeRoles.Runs(controller.View.Config, controller.NodeId, NodeRole.Kafka);
            if (_stopped || wanted == _serving)
            {
                return;
            }
            if (!wanted)
            {
                Log.Info("kafka", "the Kafka role is off on this node: its leaderships move to other replicas, and the Kafka listener closes");
                await _broker.HandOffLeadershipAsync();
                await _server.CloseListenerAsync(DrainTimeout);
            }
            else
            {
                try
                {
                    await _server.OpenListenerAsync();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // Left off; the next config change tries again.
                    Log.Error("kafka", $"the Kafka role is on again, but the listener could not open: {e.Message}");
                    return;
                }
                await _broker.AcceptLeadershipAsync();
            }
            _serving = wanted;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.Error("kafka", $"switching the Kafka role failed: {e.Message}");
        }
        finally
        {
            _gate.Exit();
        }
    }
}
