using Eddy.Records;

namespace Eddy.TestSupport;

/// <summary>
/// A partition's log as a node left it on disk, read without the node: its segments in offset order, each cut after its
/// last whole, checksummed batch (what lies past it is preallocated or padding space). Two replicas of a partition are
/// identical when these bytes are. Read only once the nodes have stopped.
/// </summary>
public static class ReplicaLogs
{
    /// <summary>The batches of the partition in <paramref name="directory"/> (DATA/kafka/TOPIC/PARTITION_REVISION).</summary>
    public static byte[] Read(string directory)
    {
        var segments = Directory.GetFiles(directory, "*.log")
            .Select(path => (Path: path, Base: long.Parse(Path.GetFileNameWithoutExtension(path).Split('-')[0], System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(s => s.Base);
        var all = new MemoryStream();
        foreach (var (path, _) in segments)
        {
            var bytes = File.ReadAllBytes(path);
            int at = 0;
            while (at < bytes.Length && RecordBatch.Check(bytes.AsSpan(at), verifyCrc: true, out int size) == BatchCheck.Ok)
            {
                all.Write(bytes, at, size);
                at += size;
            }
        }
        return all.ToArray();
    }

    /// <summary>The directory of partition <paramref name="partition"/> of <paramref name="topic"/> under a node's data
    /// directory (whatever its revision).</summary>
    public static string DirectoryOf(string dataDirectory, string topic, int partition)
        => Directory.GetDirectories(Path.Combine(dataDirectory, "kafka", topic), $"{partition}_*").Single();
}
