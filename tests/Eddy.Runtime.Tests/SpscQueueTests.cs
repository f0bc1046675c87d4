namespace Eddy.Runtime.Tests;

public class SpscQueueTests
{
    [Fact]
    public void KeepsOrderAndLosesNothingWithConcurrentProducerAndConsumer()
    {
        const long Items = 2_000_000;
        var queue = new SpscQueue<long>(1024);
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
        long expected = 0;
        while (expected < Items)
        {
            if (queue.TryDequeue(out long item))
            {
                Assert.Equal(expected, item);
                expected++;
            }
            else
            {
                Thread.SpinWait(1);
            }
        }
        producer.Join();
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact]
    public void FullQueueRefusesUntilTheConsumerTakes()
    {
        var queue = new SpscQueue<string>(4);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(queue.TryEnqueue($"item {i}"));
        }
        Assert.False(queue.TryEnqueue("overflow"));
        Assert.True(queue.TryDequeue(out var first));
        Assert.Equal("item 0", first);
        Assert.True(queue.TryEnqueue("item 4"));
        Assert.Equal(4, queue.Count);
    }

    [Fact]
    public void CapacityIsBounded()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpscQueue<int>(1));
        Assert.Equal(8, new SpscQueue<int>(5).Capacity);
    }
}
