using System.Buffers;
using System.Buffers.Binary;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Kafka.Protocol.Messages
{
    public static partial class KafkaApis
    {
        public const short ApiVersionsKey = 18;
        private const short ControlledShutdownKey = 7;

        public static bool TryGet(short apiKey, out ApiDescriptor api)
        {
            // The table is generated in key order with no gaps (0..87), so the key is the index.
            if ((uint)apiKey < (uint)All.Length && All[apiKey].Key == apiKey) { api = All[apiKey]; return true; }
            api = default;
            return false;
        }

        /// <summary>Header v2 for flexible requests, v1 otherwise; v0 only for ControlledShutdown v0.</summary>
        public static short RequestHeaderVersion(short apiKey, short apiVersion)
        {
            if (apiKey == ControlledShutdownKey && apiVersion == 0) return 0;
            return TryGet(apiKey, out var api) && api.IsFlexible(apiVersion) ? (short)2 : (short)1;
        }

        /// <summary>Header v1 for flexible responses, v0 otherwise; ApiVersions always v0 so a client can read it before it knows our versions.</summary>
        public static short ResponseHeaderVersion(short apiKey, short apiVersion)
        {
            if (apiKey == ApiVersionsKey) return 0;
            return TryGet(apiKey, out var api) && api.IsFlexible(apiVersion) ? (short)1 : (short)0;
        }
    }
}

namespace Eddy.Kafka.Protocol
{
    /// <summary>A decoded request: its header and body. Records fields in the body point into the frame.</summary>
    public readonly record struct KafkaRequest(RequestHeader Header, IKafkaMessage Body);

    /// <summary>
    /// Size-prefixed framing: cutting frames out of a receive buffer (a byte sequence) and decoding or
    /// encoding a whole request or response.
    /// </summary>
    public static class KafkaFrames
    {
        /// <summary>
        /// Cuts the next complete frame (without its 4-byte size) off the front of <paramref name="buffer"/>.
        /// Returns false when more bytes are needed; a negative or oversized length is a protocol error.
        /// </summary>
        public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame, ProtocolLimits? limits = null)
        {
            frame = default;
            if (buffer.Length < 4) return false;
            Span<byte> prefix = stackalloc byte[4];
            buffer.Slice(0, 4).CopyTo(prefix);
            int size = BinaryPrimitives.ReadInt32BigEndian(prefix);
            int max = (limits ?? ProtocolLimits.Default).MaxFrameBytes;
            if (size < 0 || size > max)
                KafkaProtocolException.Throw($"frame size {size} outside 0..{max}", 0);
            if (buffer.Length - 4 < size) return false;
            frame = buffer.Slice(4, size);
            buffer = buffer.Slice(4 + size);
            return true;
        }

        /// <summary>
        /// A frame as one contiguous block: the sequence's own memory when it has one segment (the usual
        /// case), otherwise a copy into <paramref name="scratch"/>, which the caller owns and reuses.
        /// </summary>
        public static ReadOnlyMemory<byte> Contiguous(in ReadOnlySequence<byte> frame, KafkaWriter scratch)
        {
            if (frame.IsSingleSegment) return frame.First;
            scratch.Reset();
            foreach (var segment in frame) scratch.WriteRaw(segment.Span);
            return scratch.WrittenMemory;
        }

        /// <summary>Reads the request header; the API key and version come first in every header version.</summary>
        public static RequestHeader ReadRequestHeader(ref KafkaReader r)
        {
            if (r.Remaining < 4) r.Fail("request header truncated");
            var peek = r.RemainingMemory.Span;
            short key = BinaryPrimitives.ReadInt16BigEndian(peek);
            short version = BinaryPrimitives.ReadInt16BigEndian(peek[2..]);
            var header = new RequestHeader();
            header.Read(ref r, KafkaApis.RequestHeaderVersion(key, version));
            return header;
        }

        /// <summary>
        /// Decodes a whole request frame (without its size prefix), refusing bytes after the body. Unknown keys and
        /// versions fail with UNSUPPORTED_VERSION before the header is parsed; a handler that must still answer
        /// (ApiVersions, KIP-511) reads the correlation id with <see cref="ReadRequestHeader"/>, which treats a newer
        /// version like the newest known one.
        /// </summary>
        public static KafkaRequest DecodeRequest(ReadOnlyMemory<byte> frame, ProtocolLimits? limits = null)
        {
            var request = DecodeRequest(frame, limits, out int trailingBytes);
            if (trailingBytes != 0)
                throw new KafkaProtocolException($"{trailingBytes} unexpected trailing bytes after request body", frame.Length - trailingBytes);
            return request;
        }

        /// <summary>
        /// Decodes a request frame as Kafka's broker does: bytes after the body are counted, not refused. Kafka never
        /// checks for them, and librdkafka 2.16 sends three after its Metadata v12 body (01 00 00).
        /// </summary>
        public static KafkaRequest DecodeRequest(ReadOnlyMemory<byte> frame, ProtocolLimits? limits, out int trailingBytes)
        {
            var r = new KafkaReader(frame, limits);
            // Check key and version before the header: a header version cannot be chosen for a version we do not know.
            if (frame.Length >= 4)
            {
                short key = BinaryPrimitives.ReadInt16BigEndian(frame.Span), version = BinaryPrimitives.ReadInt16BigEndian(frame.Span[2..]);
                if (!KafkaApis.TryGet(key, out var api) || version < api.MinVersion || version > api.MaxVersion)
                    throw new KafkaProtocolException($"unsupported API key {key} version {version}", 0, KafkaProtocolException.UnsupportedVersion);
            }
            var header = ReadRequestHeader(ref r);
            var body = KafkaApis.CreateRequest(header.RequestApiKey)!;
            body.Read(ref r, header.RequestApiVersion);
            trailingBytes = frame.Length - r.Position;
            return new KafkaRequest(header, body);
        }

        /// <summary>Decodes a response frame; the caller knows the key and version from the request it sent.</summary>
        public static IKafkaMessage DecodeResponse(ReadOnlyMemory<byte> frame, short apiKey, short version, out int correlationId, ProtocolLimits? limits = null)
        {
            var r = new KafkaReader(frame, limits);
            var header = new ResponseHeader();
            header.Read(ref r, KafkaApis.ResponseHeaderVersion(apiKey, version));
            correlationId = header.CorrelationId;
            var body = KafkaApis.CreateResponse(apiKey)
                ?? throw new KafkaProtocolException($"unknown API key {apiKey}", 0, KafkaProtocolException.UnsupportedVersion);
            body.Read(ref r, version);
            r.ExpectEnd("response body");
            return body;
        }

        /// <summary>Writes a size-prefixed request frame.</summary>
        public static void WriteRequest(KafkaWriter w, RequestHeader header, IKafkaMessage body)
        {
            int mark = w.BeginFrame();
            header.Write(w, KafkaApis.RequestHeaderVersion(header.RequestApiKey, header.RequestApiVersion));
            body.Write(w, header.RequestApiVersion);
            w.EndFrame(mark);
        }

        /// <summary>Writes a size-prefixed response frame with the header version the API and version call for.</summary>
        public static void WriteResponse(KafkaWriter w, int correlationId, short version, IKafkaMessage body)
        {
            int mark = w.BeginFrame();
            new ResponseHeader { CorrelationId = correlationId }.Write(w, KafkaApis.ResponseHeaderVersion(body.ApiKey, version));
            body.Write(w, version);
            w.EndFrame(mark);
        }
    }
}
