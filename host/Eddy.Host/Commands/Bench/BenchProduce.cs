using System.CommandLine;
using System.Diagnostics;
using Eddy.Client;
using Eddy.Client.Bench;
using Eddy.Client.Producing;
using Eddy.Errors;

namespace Eddy.Host.Commands.Bench;

/// <summary>
/// `eddy bench produce TOPIC`: produces numbered messages (<see cref="BenchPayload"/>) as fast as it can or at a set
/// rate, for a count or a duration, printing progress each second and at the end MB/s, msg/s and the latency from
/// produce to acknowledgement (p50, p99, p99.9, max). With --acked-file it appends the id of every acknowledged message
/// (8 bytes each) for `eddy bench consume --check` to verify. The last line of stdout is a key=value summary; the exit
/// code is 0 only when every message was acknowledged.
/// </summary>
internal static class BenchProduce
{
    public static Command Build()
    {
        var topic = new Argument<string>("topic") { Description = "The topic (created when missing, with --partitions and --replicas)" };
        var count = new Option<long>("--count", "-n") { Description = "Messages to produce (default: 1,000,000, or as many as --duration allows)", DefaultValueFactory = _ => -1 };
        var duration = new Option<double>("--duration", "-d") { Description = "Seconds to produce for, instead of a count" };
        var size = new Option<int>("--size", "-s") { Description = $"Bytes per message value (at least {BenchPayload.MinSize})", DefaultValueFactory = _ => 1024 };
        var rate = new Option<long>("--rate", "-r") { Description = "Messages per second (default: unpaced)" };
        var partitions = new Option<int>("--partitions", "-p") { Description = "Partitions of a topic this creates", DefaultValueFactory = _ => 3 };
        var replicas = new Option<short>("--replicas") { Description = "Replicas of a topic this creates (default: the cluster's)", DefaultValueFactory = _ => -1 };
        var acked = new Option<string?>("--acked-file", "-o") { Description = "Append each acknowledged message's id here (for bench consume --check)" };
        var timeout = new Option<double>("--timeout", "-T") { Description = "Give up on messages not acknowledged this many seconds after they were produced", DefaultValueFactory = _ => 120 };
        var producer = new ProducerCliOptions();
        var command = new Command("produce", "Produce numbered messages and report throughput and latency")
        {
            topic, count, duration, size, rate, partitions, replicas, acked, timeout,
        };
        producer.AddTo(command);
        command.ClientAction(async (parse, client, cancel) =>
        {
            var run = new Run(parse.GetValue(topic)!, parse.GetValue(count), parse.GetValue(duration), parse.GetValue(size), parse.GetValue(rate));
            if (run.Size < BenchPayload.MinSize)
            {
                throw new UsageException($"--size {run.Size}: at least {BenchPayload.MinSize}");
            }
            await EnsureTopicAsync(client, run.Topic, parse.GetValue(partitions), parse.GetValue(replicas), cancel);
            var options = producer.Read(parse) with { DeliveryTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)) };
            return await run.ExecuteAsync(client, options, parse.GetValue(acked), parse.GetValue(producer.Acks)!, cancel);
        });
        return command;
    }

    private static async Task EnsureTopicAsync(KafkaClient client, string topic, int partitions, short replicas, CancellationToken cancel)
    {
        var metadata = await client.MetadataAsync([topic], cancel);
        if (metadata.Topics.TryGetValue(topic, out var known) && known.ErrorCode == KafkaErrors.None)
        {
            return;
        }
        try
        {
            await new TopicAdmin(client).CreateAsync(topic, partitions, replicas, new Dictionary<string, string>(), cancel);
        }
        catch (KafkaException e) when (e.ErrorCode == KafkaErrors.TopicAlreadyExists)
        {
            // Another producer created it first.
        }
        await client.RetryAsync(async c => (await client.MetadataAsync([topic], c)).Topic(topic), TimeSpan.FromSeconds(30), cancel);
    }

    private sealed class Run(string topic, long count, double seconds, int size, long rate)
    {
        /// <summary>Send times by message id modulo this: more than a producer can hold unacknowledged (its buffer).</summary>
        private const int TimesKept = 1 << 21;

        private readonly long[] _sentAt = new long[TimesKept];
        private readonly LatencyHistogram _latency = new();
        private readonly Lock _lock = new();
        private long _delivered, _failed;
        private short _firstError;
        private FileStream? _acked;
        private readonly byte[] _idBytes = new byte[8];

        public string Topic => topic;
        public int Size => size;

        public async Task<int> ExecuteAsync(KafkaClient client, ProducerOptions options, string? ackedFile, string acks, CancellationToken cancel)
        {
            long limit = count >= 0 ? count : seconds > 0 ? long.MaxValue : 1_000_000;
            var until = seconds > 0 ? Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency) : long.MaxValue;
            _acked = ackedFile is null ? null : new FileStream(ackedFile, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
            var value = new byte[size];
            await using var producer = await Producer.CreateAsync(client, options with { OnDelivery = OnDelivery }, cancel);
            long start = Stopwatch.GetTimestamp(), lastReport = start, produced = 0;
            try
            {
                while (produced < limit && Stopwatch.GetTimestamp() < until && !cancel.IsCancellationRequested)
                {
                    if (rate > 0)
                    {
                        await PaceAsync(start, produced, cancel);
                    }
                    BenchPayload.Write(value, produced);
                    Volatile.Write(ref _sentAt[produced % TimesKept], Stopwatch.GetTimestamp());
                    await producer.ProduceAsync(topic, -1, null, value, null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), produced, cancel);
                    produced++;
                    if (Stopwatch.GetElapsedTime(lastReport).TotalSeconds >= 1)
                    {
                        lastReport = Stopwatch.GetTimestamp();
                        Progress(start, produced);
                    }
                }
                while (producer.Outstanding > 0)
                {
                    var flushed = producer.FlushAsync(CancellationToken.None);
                    if (await Task.WhenAny(flushed, Task.Delay(1000, CancellationToken.None)) == flushed)
                    {
                        break;
                    }
                    Progress(start, produced);
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                await producer.FlushAsync(CancellationToken.None);
            }
            double secs = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (_acked is not null)
            {
                await _acked.FlushAsync(CancellationToken.None);
                await _acked.DisposeAsync();
            }
            Report(produced, secs, acks, options, producer.Retries);
            return _failed == 0 && _delivered == produced ? CommandRunner.Done : CommandRunner.Failed;
        }

        private async Task PaceAsync(long start, long produced, CancellationToken cancel)
        {
            double due = (double)produced / rate;
            double ahead = due - Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (ahead > 0.001)
            {
                await Task.Delay(TimeSpan.FromSeconds(ahead), cancel);
            }
        }

        private void OnDelivery(long token, int partition, long offset, short error)
        {
            long now = Stopwatch.GetTimestamp();
            lock (_lock)
            {
                if (error != KafkaErrors.None)
                {
                    if (_failed++ == 0)
                    {
                        _firstError = error;
                    }
                    return;
                }
                _delivered++;
                _latency.Record((now - Volatile.Read(ref _sentAt[token % TimesKept])) * 1_000_000 / Stopwatch.Frequency);
                if (_acked is not null)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(_idBytes, token);
                    _acked.Write(_idBytes);
                }
            }
        }

        private void Progress(long start, long produced)
        {
            double secs = Stopwatch.GetElapsedTime(start).TotalSeconds;
            long delivered;
            lock (_lock)
            {
                delivered = _delivered;
            }
            Console.Error.WriteLine($"{secs,6:0.0} s  produced {produced:N0}  acknowledged {delivered:N0}  {delivered / secs:N0} msg/s  {delivered * size / secs / 1e6:0.0} MB/s");
        }

        private void Report(long produced, double secs, string acks, ProducerOptions options, long retries)
        {
            double msgs = _delivered / secs;
            Console.WriteLine($"produced {produced:N0} messages of {size} B to {topic} in {secs:0.00} s: {msgs:N0} msg/s, {msgs * size / 1e6:0.0} MB/s");
            Console.WriteLine($"latency, produce to acknowledgement: p50 {_latency.Percentile(50) / 1000.0:0.00} ms, p99 {_latency.Percentile(99) / 1000.0:0.00} ms, " +
                $"p99.9 {_latency.Percentile(99.9) / 1000.0:0.00} ms, max {_latency.Max / 1000.0:0.00} ms");
            if (_failed > 0)
            {
                Console.WriteLine($"failed {_failed:N0} (first error {KafkaErrors.Name(_firstError)})");
            }
            Console.WriteLine($"produce topic={topic} count={produced} size={size} acks={acks} codec={options.Compression.ToString().ToLowerInvariant()} " +
                $"idempotent={(options.Idempotent ? 1 : 0)} delivered={_delivered} failed={_failed} secs={secs:0.000} msgs_per_s={msgs:0} " +
                $"mb_per_s={msgs * size / 1e6:0.0} lat_us_p50={_latency.Percentile(50)} lat_us_p99={_latency.Percentile(99)} " +
                $"lat_us_p999={_latency.Percentile(99.9)} lat_us_max={_latency.Max} retries={retries}");
        }
    }
}
