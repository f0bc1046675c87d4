using Eddy.Records;

namespace Eddy.TestSupport;

/// <summary>
/// A partition's log as a node left it on disk, read without the node: its segments in offset order, each cut after its
/// last whole, checksummed batch (what lies past it is preallocated or padding space). Two replicas of a partition are
/// identical when these bytes are. Read while a node runs, it is what the node has written so far (a batch being written
/// is not yet whole); the final word comes once the nodes have stopped.
/// </summary>
public static class ReplicaLogs
{
    /// <summary>The batches of the partition in <paramref name="directory"/> (DATA/kafka/TOPIC/PARTITION_REVISION), from
    /// the first at or after <paramref name="from"/> (replicas apply retention each to its own log, so they start apart).</summary>
    public static byte[] Read(string directory, long from = 0)
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
                if (new RecordBatch(bytes.AsSpan(at, size)).BaseOffset >= from)
                {
                    all.Write(bytes, at, size);
                }
                at += size;
            }
        }
        return all.ToArray();
    }

    /// <summary>The base offset of the first batch on disk in <paramref name="directory"/>; -1 when there is none.</summary>
    public static long FirstOffset(string directory)
    {
        foreach (var path in Directory.GetFiles(directory, "*.log")
            .OrderBy(path => long.Parse(Path.GetFileNameWithoutExtension(path).Split('-')[0], System.Globalization.CultureInfo.InvariantCulture)))
        {
            // The first batch of the first segment that holds one: a batch header is all it reads.
            using var file = File.OpenRead(path);
            var header = new byte[RecordBatch.HeaderSize];
            if (file.Read(header) == header.Length && RecordBatch.Check(header, verifyCrc: false, out _) is BatchCheck.Ok or BatchCheck.Incomplete)
            {
                return new RecordBatch(header).BaseOffset;
            }
        }
        return -1;
    }

    /// <summary>The directory of partition <paramref name="partition"/> of <paramref name="topic"/> under a node's data
    /// directory (whatever its revision).</summary>
    public static string DirectoryOf(string dataDirectory, string topic, int partition)
        => Directory.GetDirectories(Path.Combine(dataDirectory, "kafka", topic), $"{partition}_*").Single();
}
