using System.Text;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

public sealed class KvStoreTests
{
    [Fact]
    public async Task PutGetDeleteSurviveReopen()
    {
        using var scope = new StorageScope();
        string dir = Path.Combine(scope.Root, "kvstore", "shard-0");
        await scope.Run(async () =>
        {
            await using var kv = await KvStore.OpenAsync(dir);
            await kv.PutInt64Async("raft/1/term", 7);
            await kv.PutAsync("raft/1/vote", Encoding.UTF8.GetBytes("node-2"));
            await kv.PutInt64Async("start/topic/0", 100);
            await kv.DeleteAsync("start/topic/0");
            await Assert.ThrowsAsync<ArgumentException>(async () => await kv.PutAsync("\0bad", new byte[1]));
        });
        var (term, vote, hasStart, count) = await scope.Run(async () =>
        {
            await using var kv = await KvStore.OpenAsync(dir);
            kv.TryGetInt64("raft/1/term", out long t);
            kv.TryGet("raft/1/vote", out var v);
            return (t, Encoding.UTF8.GetString(v.Span), kv.TryGetInt64("start/topic/0", out _), kv.Count);
        });
        Assert.Equal(7, term);
        Assert.Equal("node-2", vote);
        Assert.False(hasStart);
        Assert.Equal(2, count);
    }

    /// <summary>After every write, the files as they are (a crash right after it) reopen to exactly the state so far;
    /// and the last write cut anywhere (a crash during it) reopens to the state before it.</summary>
    [Fact]
    public async Task SurvivesACrashAtEveryWrite()
    {
        using var scope = new StorageScope();
        string dir = Path.Combine(scope.Root, "kv");
        var failures = await scope.Run(async () =>
        {
            var wrong = new List<string>();
            var random = new Random(11);
            var expected = new Dictionary<string, string>();
            var previous = new Dictionary<string, string>();
            await using var kv = await KvStore.OpenAsync(dir, snapshotMinBytes: 16 << 10);
            for (int op = 0; op < 300; op++)
            {
                previous = new Dictionary<string, string>(expected);
                int snapshotsBefore = kv.Snapshots;
                long sizeBefore = kv.Segments[^1].Size;
                int segmentsBefore = kv.Segments.Count;
                string key = "k" + random.Next(12);
                if (random.Next(5) == 0)
                {
                    await kv.DeleteAsync(key);
                    expected.Remove(key);
                }
                else
                {
                    string value = new string((char)('a' + op % 26), random.Next(0, 300));
                    await kv.PutAsync(key, Encoding.UTF8.GetBytes(value));
                    expected[key] = value;
                }
                string copy = Path.Combine(scope.Root, "copy");
                CopyDirectory(dir, copy);
                await Check(copy, expected, $"after write {op}", wrong);
                if (kv.Snapshots == snapshotsBefore && kv.Segments.Count == segmentsBefore)
                {
                    long end = kv.Segments[^1].Size;
                    string segment = Path.Combine(copy, Path.GetFileName(kv.Segments[^1].DataPath));
                    long cut = sizeBefore + random.NextInt64(0, end - sizeBefore);
                    var bytes = File.ReadAllBytes(segment);
                    File.WriteAllBytes(segment, bytes[..(int)cut]);
                    await Check(copy, previous, $"write {op} cut at byte {cut}", wrong);
                }
                Directory.Delete(copy, recursive: true);
            }
            Assert.True(kv.Snapshots > 0, "the test should have crossed a snapshot");
            return wrong;
        });
        Assert.Empty(failures);
    }

    private static async ValueTask Check(string dir, Dictionary<string, string> expected, string when, List<string> wrong)
    {
        await using var kv = await KvStore.OpenAsync(dir, snapshotMinBytes: 16 << 10);
        if (kv.Count != expected.Count)
        {
            wrong.Add($"{when}: {kv.Count} keys, expected {expected.Count}");
            return;
        }
        foreach (var (key, value) in expected)
        {
            if (!kv.TryGet(key, out var got) || Encoding.UTF8.GetString(got.Span) != value)
            {
                wrong.Add($"{when}: {key} differs");
            }
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
    }
}
