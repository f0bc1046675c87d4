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

    private readonly SpscQueue<long> _burstQueue = new(Capacity);
    private readonly Channel<long> _burstChannel = Channel.CreateBounded<long>(new BoundedChannelOptions(Capacity) { SingleReader = true, SingleWriter = true });
    private readonly ConcurrentQueue<long> _burstConcurrent = new();

    // The same queues on one thread: fill 1024, drain 1024. The cost of the operations themselves, without
    // the scheduler (which dominates the two-thread runs when the machine's cores are shared).
    [Benchmark(OperationsPerInvoke = Capacity)]
    public long SpscQueueBurst()
    {
        for (long i = 0; i < Capacity; i++)
        {
            _burstQueue.TryEnqueue(i);
        }
        long sum = 0;
        while (_burstQueue.TryDequeue(out long item))
        {
            sum += item;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Capacity)]
    public long BoundedChannelBurst()
    {
        for (long i = 0; i < Capacity; i++)
        {
            _burstChannel.Writer.TryWrite(i);
        }
        long sum = 0;
        while (_burstChannel.Reader.TryRead(out long item))
        {
            sum += item;
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Capacity)]
    public long ConcurrentQueueBurst()
    {
        for (long i = 0; i < Capacity; i++)
        {
            _burstConcurrent.Enqueue(i);
        }
        long sum = 0;
        while (_burstConcurrent.TryDequeue(out long item))
        {
            sum += item;
        }
        return sum;
    }
}
