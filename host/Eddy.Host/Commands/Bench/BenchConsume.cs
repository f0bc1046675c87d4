using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using Eddy.Client;
using Eddy.Client.Bench;
using Eddy.Client.Consuming;
using Eddy.Records;

namespace Eddy.Host.Commands.Bench;

/// <summary>
/// `eddy bench consume TOPIC`: reads every partition from its start and reports MB/s and msg/s. With --check ACKED_FILE
/// (written by `bench produce --acked-file`) it also checks the messages themselves: every acknowledged message read
/// once and intact, offsets rising in every partition; it reads until it has found them all and reached the end of
/// every partition, or until --timeout. The last line of stdout is a key=value summary; the exit code is 0 only when
/// the run read what it was asked to and the check found nothing wrong.
/// </summary>
internal static class BenchConsume
{
    public static Command Build()
    {
        var topic = new Argument<string>("topic") { Description = "The topic to read" };
        var count = new Option<long>("--count", "-n")
        {
            Description = "Messages to read; with --check, the number produced (ids at or past it are unexpected). Default: to the end of every partition",
            DefaultValueFactory = _ => -1,
        };
        var check = new Option<string?>("--check", "-k") { Description = "An acked file from bench produce: check that each of those messages comes back once, intact" };
        var timeout = new Option<double>("--timeout", "-T") { Description = "Seconds before giving up", DefaultValueFactory = _ => 60 };
        var command = new Command("consume", "Read a topic from its start and report throughput (and, with --check, loss and duplicates)")
        {
            topic, count, check, timeout,
        };
        command.ClientAction(async (parse, client, cancel) =>
        {
            var run = new Run(parse.GetValue(topic)!, parse.GetValue(count), parse.GetValue(check) is { } file ? await ReadAckedAsync(file, cancel) : null);
            return await run.ExecuteAsync(client, TimeSpan.FromSeconds(parse.GetValue(timeout)), cancel);
        });
        return command;
    }

    private static async Task<HashSet<long>> ReadAckedAsync(string file, CancellationToken cancel)
    {
        var bytes = await File.ReadAllBytesAsync(file, cancel);
        if (bytes.Length % 8 != 0)
        {
            throw new InvalidDataException($"{file}: {bytes.Length} bytes is not a whole number of 8-byte ids");
        }
        var acked = new HashSet<long>(bytes.Length / 8);
        for (int at = 0; at < bytes.Length; at += 8)
        {
            acked.Add(BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(at)));
        }
        return acked;
    }

    private sealed class Run(string topic, long count, HashSet<long>? acked)
    {
        private readonly HashSet<long> _seen = new();
        private readonly Dictionary<int, (long Offset, long Id)> _last = new();
        private long _read, _bytes, _duplicates, _corrupt, _unexpected, _unackedPresent, _backwards, _reordered, _ackedSeen;

        public async Task<int> ExecuteAsync(KafkaClient client, TimeSpan timeout, CancellationToken cancel)
        {
            var info = (await client.MetadataAsync([topic], cancel)).Topic(topic);
            var fetcher = new Fetcher(client) { MaxWaitMs = 100 };
            foreach (var p in info.Partitions)
            {
                fetcher.Assign(topic, p.Index, await Fetcher.OffsetForAsync(client, topic, p.Index, -2, cancel));
            }
            long start = Stopwatch.GetTimestamp(), lastReport = start;
            bool timedOut = false;
            while (!cancel.IsCancellationRequested)
            {
                await fetcher.FetchAsync(Visit, cancel);
                bool atEnd = info.Partitions.All(p => fetcher.HighWatermark(topic, p.Index) >= 0
                    && fetcher.Positions[(topic, p.Index)] >= fetcher.HighWatermark(topic, p.Index));
                if (Done(atEnd))
                {
                    break;
                }
                if (Stopwatch.GetElapsedTime(start) > timeout)
                {
                    timedOut = true;
                    break;
                }
                if (Stopwatch.GetElapsedTime(lastReport).TotalSeconds >= 1)
                {
                    lastReport = Stopwatch.GetTimestamp();
                    double s = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    Console.Error.WriteLine($"{s,6:0.0} s  read {_read:N0}  {_read / s:N0} msg/s  {_bytes / s / 1e6:0.0} MB/s");
                }
            }
            double secs = Stopwatch.GetElapsedTime(start).TotalSeconds;
            return Report(secs, timedOut);
        }

        /// <summary>Finished: with a check, every acknowledged message found and every partition read to its end;
        /// without, the count read, or (no count) every partition read to its end.</summary>
        private bool Done(bool atEnd) => acked is not null
            ? atEnd && _ackedSeen == acked.Count
            : count >= 0 ? _read >= count : atEnd;

        private void Visit(string t, int partition, in Record record)
        {
            _read++;
            _bytes += record.Value.Length;
            if (_last.TryGetValue(partition, out var last) && record.Offset <= last.Offset)
            {
                _backwards++;
            }
            long id = BenchPayload.Read(record.Value);
            if (id < 0)
            {
                _corrupt++;
                return;
            }
            if (last.Id > id && _last.ContainsKey(partition))
            {
                _reordered++;
            }
            _last[partition] = (record.Offset, id);
            if (acked is null)
            {
                return;
            }
            if (count >= 0 && id >= count)
            {
                _unexpected++;
                return;
            }
            if (!_seen.Add(id))
            {
                _duplicates++;
                return;
            }
            if (acked.Contains(id))
            {
                _ackedSeen++;
            }
            else
            {
                _unackedPresent++;
            }
        }

        private int Report(double secs, bool timedOut)
        {
            double msgs = _read / secs;
            Console.WriteLine($"read {_read:N0} messages from {topic} in {secs:0.00} s: {msgs:N0} msg/s, {_bytes / secs / 1e6:0.0} MB/s" + (timedOut ? " (timed out)" : ""));
            long missing = acked is null ? 0 : acked.Count - _ackedSeen;
            if (acked is not null)
            {
                Console.WriteLine($"check: {acked.Count:N0} acknowledged, {missing:N0} missing, {_duplicates:N0} duplicates, {_corrupt:N0} corrupt, " +
                    $"{_unexpected:N0} unexpected, {_unackedPresent:N0} present though not acknowledged, {_backwards:N0} offsets backwards, {_reordered:N0} reordered");
            }
            Console.WriteLine($"consume topic={topic} read={_read} expected={acked?.Count ?? count} missing={missing} duplicates={_duplicates} corrupt={_corrupt} " +
                $"unexpected={_unexpected} unacked_present={_unackedPresent} offsets_backwards={_backwards} reordered={_reordered} secs={secs:0.000} " +
                $"msgs_per_s={msgs:0} mb_per_s={_bytes / secs / 1e6:0.0}");
            bool ok = acked is not null
                ? missing == 0 && _duplicates == 0 && _corrupt == 0 && _unexpected == 0 && _backwards == 0
                : !timedOut && _corrupt == 0 && _backwards == 0;
            return ok ? CommandRunner.Done : CommandRunner.Failed;
        }
    }
}
