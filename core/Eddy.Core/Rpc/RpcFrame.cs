using System.Buffers.Binary;
using Eddy.Hashing;

namespace Eddy.Rpc;

/// <summary>How a look at the front of a receive buffer went.</summary>
public enum RpcFrameStatus
{
    Ok,
    /// <summary>More bytes are needed for the frame.</summary>
    Incomplete,
    /// <summary>The length is below the header or above the limit, or a tail is longer than the payload or on a type
    /// that has none: garbage, or another protocol.</summary>
    BadLength,
    /// <summary>The CRC-32C does not match the bytes it covers.</summary>
    BadChecksum,
    /// <summary>A protocol version this node does not speak.</summary>
    UnsupportedVersion,
}

/// <summary>
/// One node-to-node frame, big-endian:
/// <code>
///  0  int32   length       bytes after this field: 16 + payload
///  4  uint32  checksum     CRC-32C of every byte after it (version to the payload's end), but the tail
///  8  int16   version      3
/// 10  int16   type         RpcMessageType
/// 12  int32   correlation  chosen by the sender; a reply carries its request's
/// 16  int32   tail         bytes at the payload's end the checksum leaves out: 0 but for a RaftEnvelope
/// 20  ...     payload
/// </code>
/// The length is checked against the limit before anything is allocated, and the checksum before the payload is
/// decoded, so a peer speaking something else, or a damaged frame, is refused without harm. A tail holds only record
/// batches, which carry CRCs of their own: the receiver checks each as it copies it out (<see cref="NodeEnvelopeCodec"/>),
/// so the bulk of a replicated append is summed once on its way, not once per frame and again per batch.
/// </summary>
public readonly record struct RpcFrame(short Version, RpcMessageType Type, int Correlation, int PayloadOffset, int PayloadLength, int TailLength = 0)
{
    public const short CurrentVersion = 3;
    public const int HeaderBytes = 20;
    private const int LengthBytes = 4;
    private const int ChecksumOffset = 4;
    private const int VersionOffset = 8;
    private const int TailOffset = 16;

    /// <summary>Frames larger than this are refused unless the options say otherwise: 16 MiB.</summary>
    public const int DefaultMaxFrameBytes = 16 << 20;

    /// <summary>Whether frames of <paramref name="type"/> may end in a tail the checksum leaves out.</summary>
    public static bool MayHaveTail(RpcMessageType type) => type == RpcMessageType.RaftEnvelope;

    /// <summary>Looks at the frame at the front of <paramref name="buffer"/>. On <see cref="RpcFrameStatus.Ok"/>,
    /// <paramref name="frame"/> locates its payload in <paramref name="buffer"/> and <paramref name="consumed"/> is its
    /// whole size.</summary>
    public static RpcFrameStatus TryRead(ReadOnlySpan<byte> buffer, int maxFrameBytes, out RpcFrame frame, out int consumed)
    {
        frame = default;
        consumed = 0;
        if (buffer.Length < LengthBytes)
        {
            return RpcFrameStatus.Incomplete;
        }
        int length = BinaryPrimitives.ReadInt32BigEndian(buffer);
        if (length < HeaderBytes - LengthBytes || length > maxFrameBytes - LengthBytes)
        {
            return RpcFrameStatus.BadLength;
        }
        if (buffer.Length < LengthBytes + length)
        {
            return RpcFrameStatus.Incomplete;
        }
        var whole = buffer[..(LengthBytes + length)];
        // An older node lays its header (and so its checksum) out otherwise: told by its version, not by the damage
        // reading it as this version's would find. A newer one keeps the fields this version has.
        short version = BinaryPrimitives.ReadInt16BigEndian(whole[VersionOffset..]);
        if (version is >= 1 and < CurrentVersion)
        {
            frame = new RpcFrame(version, 0, 0, 0, 0);
            return RpcFrameStatus.UnsupportedVersion;
        }
        var type = (RpcMessageType)BinaryPrimitives.ReadInt16BigEndian(whole[10..]);
        int tail = BinaryPrimitives.ReadInt32BigEndian(whole[TailOffset..]);
        int payloadLength = whole.Length - HeaderBytes;
        if (tail < 0 || tail > payloadLength || (tail > 0 && !MayHaveTail(type)))
        {
            return RpcFrameStatus.BadLength;
        }
        if (Crc32C.Compute(whole[VersionOffset..^tail]) != BinaryPrimitives.ReadUInt32BigEndian(whole[ChecksumOffset..]))
        {
            return RpcFrameStatus.BadChecksum;
        }
        if (version != CurrentVersion)
        {
            frame = new RpcFrame(version, 0, 0, 0, 0);
            return RpcFrameStatus.UnsupportedVersion;
        }
        int correlation = BinaryPrimitives.ReadInt32BigEndian(whole[12..]);
        frame = new RpcFrame(version, type, correlation, HeaderBytes, payloadLength, tail);
        consumed = whole.Length;
        return RpcFrameStatus.Ok;
    }

    /// <summary>A whole frame around <paramref name="payload"/>.</summary>
    public static byte[] Encode(RpcMessageType type, int correlation, ReadOnlySpan<byte> payload, short version = CurrentVersion)
    {
        var frame = new byte[HeaderBytes + payload.Length];
        EncodeInto(frame, type, correlation, payload, version);
        return frame;
    }

    /// <summary>Writes a whole frame around <paramref name="payload"/> at the start of <paramref name="frame"/>, which
    /// holds at least <see cref="HeaderBytes"/> more bytes than the payload (a pooled buffer, for frames sent often and
    /// large).</summary>
    public static void EncodeInto(Span<byte> frame, RpcMessageType type, int correlation, ReadOnlySpan<byte> payload, short version = CurrentVersion)
    {
        payload.CopyTo(frame[HeaderBytes..]);
        Seal(frame[..(HeaderBytes + payload.Length)], type, correlation, version);
    }

    /// <summary>Writes the header of <paramref name="frame"/>, whose payload is already in place after
    /// <see cref="HeaderBytes"/> (written there by <see cref="RpcWriter.BeginFrame"/>), checksum included. The last
    /// <paramref name="tail"/> bytes of the payload are left out of the checksum (see <see cref="MayHaveTail"/>).</summary>
    public static void Seal(Span<byte> frame, RpcMessageType type, int correlation, short version = CurrentVersion, int tail = 0)
    {
        if (tail < 0 || tail > frame.Length - HeaderBytes || (tail > 0 && !MayHaveTail(type)))
        {
            throw new ArgumentOutOfRangeException(nameof(tail), $"a tail of {tail} bytes in a {type} frame of {frame.Length}");
        }
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - LengthBytes);
        BinaryPrimitives.WriteInt16BigEndian(frame[VersionOffset..], version);
        BinaryPrimitives.WriteInt16BigEndian(frame[10..], (short)type);
        BinaryPrimitives.WriteInt32BigEndian(frame[12..], correlation);
        BinaryPrimitives.WriteInt32BigEndian(frame[TailOffset..], tail);
        BinaryPrimitives.WriteUInt32BigEndian(frame[ChecksumOffset..], Crc32C.Compute(frame[VersionOffset..^tail]));
    }
}
