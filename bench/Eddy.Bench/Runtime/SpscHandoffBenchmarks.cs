using System.Collections.Concurrent;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Eddy.Runtime;

namespace Eddy.Bench.Runtime;

/// <summary>
/// One producer thread hands items to one consumer thread through a bounded queue of 1024 slots.
/// Reported per item (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class SpscHandoffBenchmarks
{
    private const int Items = 1_000_000;
    private const int Capacity = 1024;

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    public long SpscQueue()
    {
        var queue = new SpscQueue<long>(Capacity);
        var producer = new Thread(() =>
        {
            for (long i = 0; i < Items; i++)
            {
                while (!queue.TryEnqueue(i))
                {
                    Thread.SpinWait(1);
                }
            }
        });
        producer.Start();
        long sum = 0;
        for (int received = 0; received < Items;)
        {
            if (queue.TryDequeue(out long item))
            {
                sum += item;
                received++;
            }
            else
            {
                Thread.SpinWait(1);
            }
        }
        producer.Join();
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Items)]
    public long BoundedChannel()
    {
        var channel = Channel.CreateBounded<long>(new BoundedChannelOptions(Capacity) { SingleReader = true, SingleWriter = true });
        var producer = new Thread(() =>
        {
            var writer = channel.Writer;
            for (long i = 0; i < Items; i++)
            {
                while (!writer.TryWrite(i))
                {
                    Thread.SpinWait(1);
                }
            }
        });
        producer.Start();
        long sum = 0;
        var reader = channel.Reader;
        for (int received = 0; received < Items;)
        {
            if (reader.TryRead(out long item))
            {
                sum += item;
                received++;
            }
            else
            {
                Thread.SpinWait(1);
            }
        }
        producer.Join();
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Items)]
    public long ConcurrentQueue()
    {
        // ConcurrentQueue is unbounded: the producer bounds itself on the count to compare like with like.
        var queue = new ConcurrentQueue<long>();
        var producer = new Thread(() =>
        {
            for (long i = 0; i < Items; i++)
            {
                while (queue.Count >= Capacity)
                {
                    Thread.SpinWait(1);
                }
                queue.Enqueue(i);
            }
        });
        producer.Start();
        long sum = 0;
        for (int received = 0; received < Items;)
        {
            if (queue.TryDequeue(out long item))
            {
                sum += item;
                received++;
            }
            else
            {
                Thread.SpinWait(1);
            }
        }
        producer.Join();
        return sum;
    }
}
