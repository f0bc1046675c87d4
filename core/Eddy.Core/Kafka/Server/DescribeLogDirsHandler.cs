using Eddy.Cluster;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Runtime;

namespace Eddy.Kafka.Server;

/// <summary>
/// DescribeLogDirs (key 35), v0–v4: one log dir, the node's data directory (as broker config log.dirs says), with the
/// size of each partition asked for (all when Topics is null), read on the shards that own them. One node has no
/// followers and no future replicas: the offset lag is 0 and IsFutureKey false. A partition that does not exist has no
/// entry (Kafka has no error for it). v4 adds the file system's total and usable bytes.
/// </summary>
public sealed class DescribeLogDirsHandler(Broker broker) : IKafkaApiHandler
{
    public short ApiKey => DescribeLogDirsRequest.ApiKeyValue;
    public short MinVersion => 0;
    public short MaxVersion => 4;

    public async ValueTask<IKafkaMessage?> HandleAsync(RequestContext context, IKafkaMessage request)
    {
        var body = (DescribeLogDirsRequest)request;
        HashSet<(string, int)>? wanted = body.Topics?.SelectMany(t => t.Partitions.Select(p => (t.Topic, p))).ToHashSet();
        var snapshot = broker.Table.Topics;
        // One call per shard, all started before any is awaited, each listing the partitions that shard owns.
        var perShard = new List<ValueTask<List<(string Topic, int Index, long Size)>>>();
        for (int shard = 0; shard < broker.Group.Count; shard++)
        {
#pragma warning disable CA2012
            perShard.Add(Smp.SubmitTo(shard, () => SizesOnShard(snapshot, wanted)));
#pragma warning restore CA2012
        }
        var sizes = new List<(string Topic, int Index, long Size)>();
        foreach (var call in perShard)
        {
            sizes.AddRange(await call);
        }
        string directory = Path.GetFullPath(broker.Options.DataDirectory);
        var (total, usable) = SpaceOf(directory);
        var logDir = new DescribeLogDirsResponse.DescribeLogDirsResult { LogDir = directory, TotalBytes = total, UsableBytes = usable };
        foreach (var topic in sizes.GroupBy(s => s.Topic).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            logDir.Topics.Add(new DescribeLogDirsResponse.DescribeLogDirsTopic
            {
                Name = topic.Key,
                Partitions = topic.OrderBy(p => p.Index).Select(p => new DescribeLogDirsResponse.DescribeLogDirsPartition
                {
                    PartitionIndex = p.Index,
                    PartitionSize = p.Size,
                    OffsetLag = 0,
                    IsFutureKey = false,
                }).ToList(),
            });
        }
        return new DescribeLogDirsResponse { Results = [logDir] };
    }

    /// <summary>This shard's open partitions of topics in <paramref name="snapshot"/> (not ones deleted meanwhile),
    /// those asked for, with their sizes.</summary>
    private List<(string, int, long)> SizesOnShard(TopicsSnapshot snapshot, HashSet<(string, int)>? wanted)
    {
        var found = new List<(string, int, long)>();
        foreach (var partition in broker.Router.LocalPartitions)
        {
            string name = partition.Topic.Name;
            if (!snapshot.TryGet(name, out var topic) || topic.Revision != partition.Topic.Revision)
            {
                continue;
            }
            if (wanted is null || wanted.Contains((name, partition.Index)))
            {
                found.Add((name, partition.Index, partition.SizeBytes));
            }
        }
        return found;
    }

    /// <summary>The file system's size and the bytes free to this process, or -1 each when it cannot be read.</summary>
    private static (long Total, long Usable) SpaceOf(string directory)
    {
        try
        {
            var drive = new DriveInfo(directory);
            return (drive.TotalSize, drive.AvailableFreeSpace);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return (-1, -1);
        }
    }
}
