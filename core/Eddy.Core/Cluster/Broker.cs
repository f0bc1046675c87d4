using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Cluster;

/// <summary>
/// A node's topics and partitions, put together from their three jobs: the <see cref="TopicTable"/> (what exists:
/// the controller's state machine), the <see cref="PartitionReconciler"/> (each shard's partitions brought to what
/// the table says) and the <see cref="PartitionRouter"/> (a request's partitions sent to their owner). Start and stop
/// are called from outside the shards.
/// </summary>
public sealed class Broker
{
    private const string Subsystem = "cluster";

    private Broker(ShardGroup group, BrokerOptions options, Controller controller, TopicTable table, PartitionReconciler partitions)
    {
        Group = group;
        Controller = controller;
        Options = options;
        Table = table;
        Partitions = partitions;
        Router = new PartitionRouter(table, partitions);
    }

    public ShardGroup Group { get; }
    public BrokerOptions Options { get; }

    /// <summary>The cluster's controller (Raft group 0) as seen from this node: members, cluster id, leader.</summary>
    public Controller Controller { get; }
    public TopicTable Table { get; }
    public PartitionReconciler Partitions { get; }
    public PartitionRouter Router { get; }

    /// <summary>Loads the node's metadata store, starts the controller and waits for the cluster to form (at once for a
    /// lone node or a restart; a new cluster's seeds wait for a majority of each other), opens this node's partitions
    /// of the controller's topics (recovering their logs) in the new leader epoch, and creates the offsets topic when
    /// the cluster has none.</summary>
    public static async Task<Broker> StartAsync(ShardGroup group, BrokerOptions options)
    {
        var table = await TopicTable.LoadAsync(group, options);
        Controller controller;
        try
        {
            controller = await Controller.StartAsync(group, options.Controller, options.DataDirectory);
        }
        catch
        {
            await table.CloseAsync(group);
            throw;
        }
        try
        {
            await controller.WaitFormedAsync(options.FormTimeout);
            return await OpenAsync(group, options, controller, table);
        }
        catch
        {
            try
            {
                await table.DetachAsync(group);
                await table.Reconciler.CloseAllAsync();
                await controller.StopAsync();
                await table.CloseAsync(group);
            }
            catch (Exception cleanup) when (cleanup is not OutOfMemoryException)
            {
                Log.Warn(Subsystem, $"after a failed start, closing failed too: {cleanup.Message}");
            }
            throw;
        }
    }

    private static async Task<Broker> OpenAsync(ShardGroup group, BrokerOptions options, Controller controller, TopicTable table)
    {
        var partitions = table.Reconciler;
        await table.AttachAsync(group, controller);
        int carried = await partitions.HighestLeaderEpochAsync();
        if (carried > table.LeaderEpoch)
        {
            // A log carries a later epoch than the metadata store remembers (the store restored from an older copy, or
            // lost): every partition leads in a fresh epoch above it, so that Metadata's epoch is each partition's.
            Log.Warn(Subsystem, $"a log carries leader epoch {carried}, later than the metadata store's {table.LeaderEpoch}: leading in {carried + 1}");
            await table.RaiseLeaderEpochAsync(group, carried + 1);
            await partitions.LeadInAsync(carried + 1);
        }
        var topics = table.Topics.ByName.Values;
        Log.Info(Subsystem, $"opened {topics.Sum(t => Enumerable.Range(0, t.PartitionCount).Count(p => t.HasReplicaOn(p, controller.NodeId)))} partitions of {topics.Length} topics " +
            $"from {Path.GetFullPath(options.DataDirectory)}, cluster {controller.ClusterId}, node {controller.NodeId}, leader epoch {table.LeaderEpoch}");
        await table.EnsureOffsetsTopicAsync(group);
        partitions.StartHousekeeping();
        return new Broker(group, options, controller, table, partitions);
    }

    /// <summary>Hands the leadership of the replicated partitions this node leads to other replicas. Before the Kafka
    /// server stops, so clients are sent to the new leaders while this node still answers.</summary>
    public Task HandOffLeadershipAsync() => Partitions.HandOffLeadershipAsync();

    /// <summary>Has this node's replicas take leadership again after <see cref="HandOffLeadershipAsync"/>.</summary>
    public Task AcceptLeadershipAsync() => Partitions.AcceptLeadershipAsync();

    /// <summary>Stops following the controller, flushes and closes every partition and the metadata store, then stops
    /// the controller. After the Kafka server stopped.</summary>
    public async Task StopAsync()
    {
        await Table.DetachAsync(Group);
        await Partitions.CloseAllAsync();
        await Table.CloseAsync(Group);
        await Controller.StopAsync();
    }
}
