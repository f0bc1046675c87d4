using System.Buffers.Binary;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Server;

/// <summary>
/// Decodes a request frame as Kafka's broker does: like <see cref="KafkaFrames.DecodeRequest"/>, but bytes after the
/// body are ignored rather than refused. Kafka never checks for them, and librdkafka 2.16 sends three after its
/// Metadata v12 body (01 00 00), so refusing them would lock out the most common client.
/// </summary>
internal static class RequestDecoder
{
    public static KafkaRequest Decode(ReadOnlyMemory<byte> frame, ProtocolLimits limits, out int trailingBytes)
    {
        if (frame.Length >= 4)
        {
            short key = BinaryPrimitives.ReadInt16BigEndian(frame.Span), version = BinaryPrimitives.ReadInt16BigEndian(frame.Span[2..]);
            if (!KafkaApis.TryGet(key, out var api) || version < api.MinVersion || version > api.MaxVersion)
            {
                throw new KafkaProtocolException($"unsupported API key {key} version {version}", 0, KafkaProtocolException.UnsupportedVersion);
            }
        }
        var r = new KafkaReader(frame, limits);
        var header = KafkaFrames.ReadRequestHeader(ref r);
        var body = KafkaApis.CreateRequest(header.RequestApiKey)!;
        body.Read(ref r, header.RequestApiVersion);
        trailingBytes = frame.Length - r.Position;
        return new KafkaRequest(header, body);
    }
}
