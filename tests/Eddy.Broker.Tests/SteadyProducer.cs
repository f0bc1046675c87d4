using Confluent.Kafka;

namespace Eddy.Broker.Tests;

/// <summary>
/// A Confluent idempotent producer (acks=all) that sends "m0", "m1", ... to partitions 0, 1, ... in turn at a steady
/// pace on a background task until stopped, keeping every delivery report: traffic that must keep flowing while a
/// test does something else to the broker. Its message timeout outlasts a broker restart.
/// </summary>
internal sealed class SteadyProducer : IDisposable
{
    private readonly IProducer<Null, string> _producer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<DeliveryReport<Null, string>> _reports = [];
    private int _sent;

    public SteadyProducer(string bootstrap, string topic, int partitions, TimeSpan pause)
    {
        _producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap, EnableIdempotence = true, Acks = Acks.All, LingerMs = 5, MessageTimeoutMs = 120_000,
            ReconnectBackoffMs = 100, ReconnectBackoffMaxMs = 1000,
        }).Build();
        _loop = Task.Run(async () =>
        {
            for (int i = 0; !_stop.IsCancellationRequested; i++)
            {
                _producer.Produce(new TopicPartition(topic, i % partitions), new Message<Null, string> { Value = $"m{i}" }, Delivered);
                Interlocked.Increment(ref _sent);
                try
                {
                    await Task.Delay(pause, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    public int Sent => Volatile.Read(ref _sent);

    public int Delivered()
    {
        lock (_reports)
        {
            return _reports.Count(r => !r.Error.IsError);
        }
    }

    private void Delivered(DeliveryReport<Null, string> report)
    {
        lock (_reports)
        {
            _reports.Add(report);
        }
    }

    /// <summary>Stops sending, waits for every report and returns them; the caller checks them.</summary>
    public async Task<List<DeliveryReport<Null, string>>> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        int left = _producer.Flush(TimeSpan.FromSeconds(120));
        Assert.True(left == 0, $"{left} messages still undelivered");
        lock (_reports)
        {
            Assert.Equal(Sent, _reports.Count);
            return [.. _reports];
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(10));
        _producer.Dispose();
        _stop.Dispose();
    }
}
