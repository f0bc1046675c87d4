using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Records;

namespace Eddy.Protocol.Tests;

/// <summary>
/// A loopback listener that speaks just enough Kafka for librdkafka to get to the requests under test.
/// It records every request frame it receives and answers ApiVersions, Metadata, FindCoordinator,
/// Produce, Fetch and JoinGroup with responses built by the codec, so the real client also checks our
/// encoder. Anything else gets no answer.
/// </summary>
internal sealed class FakeBroker : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Guid _topicId = Guid.Parse("6f3c1d2e-0000-4000-8000-00000000abcd");
    public ConcurrentQueue<(short Key, short Version, byte[] Frame)> Requests { get; } = new();
    /// <summary>Batches the Produce handler stored, returned by Fetch.</summary>
    public ConcurrentQueue<byte[]> Stored { get; } = new();
    public int Port { get; }

    public FakeBroker()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoop();
    }

    private async Task AcceptLoop()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = Serve(client);
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    private async Task Serve(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var size = new byte[4];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await stream.ReadExactlyAsync(size, _stop.Token);
                var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
                await stream.ReadExactlyAsync(frame, _stop.Token);
                var request = KafkaFrames.DecodeRequest(frame);
                Requests.Enqueue((request.Header.RequestApiKey, request.Header.RequestApiVersion, frame));
                var response = Answer(request);
                if (response is null) continue;
                if (request.Header.RequestApiKey == FetchRequest.ApiKeyValue && Stored.IsEmpty) await Task.Delay(50, _stop.Token);
                using var w = new KafkaWriter();
                KafkaFrames.WriteResponse(w, request.Header.CorrelationId, request.Header.RequestApiVersion, response);
                await stream.WriteAsync(w.WrittenMemory, _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or EndOfStreamException or ObjectDisposedException or SocketException) { }
    }

    private IKafkaMessage? Answer(KafkaRequest request) => request.Body switch
    {
        ApiVersionsRequest => ApiVersions(),
        MetadataRequest => new MetadataResponse
        {
            Brokers = [new MetadataResponse.MetadataResponseBroker { NodeId = 1, Host = "127.0.0.1", Port = Port }],
            ClusterId = "eddy-test",
            ControllerId = 1,
            Topics = [new MetadataResponse.MetadataResponseTopic
            {
                Name = "t", TopicId = _topicId,
                Partitions = [new MetadataResponse.MetadataResponsePartition { PartitionIndex = 0, LeaderId = 1, ReplicaNodes = [1], IsrNodes = [1] }],
            }],
        },
        FindCoordinatorRequest f => new FindCoordinatorResponse
        {
            NodeId = 1, Host = "127.0.0.1", Port = Port,
            Coordinators = [.. f.CoordinatorKeys.Select(k => new FindCoordinatorResponse.Coordinator { Key = k, NodeId = 1, Host = "127.0.0.1", Port = Port })],
        },
        ProduceRequest p => Produce(p),
        FetchRequest f => Fetch(f),
        // v4+: the first join gets MEMBER_ID_REQUIRED and an id to rejoin with; that is all these tests need.
        JoinGroupRequest => new JoinGroupResponse { ErrorCode = 79, MemberId = "member-1", GenerationId = -1 },
        _ => null,
    };

    private static ApiVersionsResponse ApiVersions()
    {
        var r = new ApiVersionsResponse();
        foreach (var api in KafkaApis.All)
        {
            // Keep librdkafka off topic-ID versions and the KIP-848 protocol: these tests only need the classic APIs.
            short max = api.Key switch { 0 => 10, 1 => 12, 3 => 12, _ => api.MaxVersion };
            if (api.Key is 68 or 69) continue;
            r.ApiKeys.Add(new ApiVersionsResponse.ApiVersion { ApiKey = api.Key, MinVersion = api.MinVersion, MaxVersion = max });
        }
        return r;
    }

    private ProduceResponse Produce(ProduceRequest p)
    {
        var response = new ProduceResponse();
        foreach (var topic in p.TopicData)
        {
            var t = new ProduceResponse.TopicProduceResponse { Name = topic.Name };
            foreach (var part in topic.PartitionData)
            {
                long baseOffset = Stored.Count;
                if (part.Records is { } rec) Stored.Enqueue(rec.ToArray());
                t.PartitionResponses.Add(new ProduceResponse.PartitionProduceResponse { Index = part.Index, BaseOffset = baseOffset, LogAppendTimeMs = -1 });
            }
            response.Responses.Add(t);
        }
        return response;
    }

    private FetchResponse Fetch(FetchRequest f)
    {
        // Return every stored batch, with offsets assigned in order, from the first fetch on.
        using var w = new KafkaWriter();
        long offset = 0;
        foreach (var stored in Stored)
        {
            var copy = (byte[])stored.Clone();
            BinaryPrimitives.WriteInt64BigEndian(copy, offset); // baseOffset is outside the CRC
            offset += new RecordBatch(copy).RecordCount;
            w.WriteRaw(copy);
        }
        var response = new FetchResponse();
        foreach (var topic in f.Topics)
        {
            var t = new FetchResponse.FetchableTopicResponse { Topic = topic.Topic, TopicId = topic.TopicId };
            foreach (var part in topic.Partitions)
            {
                bool any = part.FetchOffset < offset;
                t.Partitions.Add(new FetchResponse.PartitionData
                {
                    PartitionIndex = part.Partition, HighWatermark = offset, LastStableOffset = offset, LogStartOffset = 0,
                    Records = any ? w.ToArray() : Array.Empty<byte>(),
                });
            }
            response.Responses.Add(t);
        }
        return response;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
