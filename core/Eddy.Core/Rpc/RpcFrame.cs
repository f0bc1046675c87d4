using System.Buffers.Binary;
using Eddy.Hashing;

namespace Eddy.Rpc;

/// <summary>How a look at the front of a receive buffer went.</summary>
public enum RpcFrameStatus
{
    Ok,
    /// <summary>More bytes are needed for the frame.</summary>
    Incomplete,
    /// <summary>The length is below the header or above the limit: garbage, or another protocol.</summary>
    BadLength,
    /// <summary>The CRC-32C does not match the bytes it covers.</summary>
    BadChecksum,
    /// <summary>A protocol version this node does not speak.</summary>
    UnsupportedVersion,
}

/// <summary>
/// One node-to-node frame, big-endian:
/// <code>
///  0  int32   length       bytes after this field: 12 + payload
///  4  uint32  checksum     CRC-32C of every byte after it (version to the payload's end)
///  8  int16   version      1
/// 10  int16   type         RpcMessageType
/// 12  int32   correlation  chosen by the sender; a reply carries its request's
/// 16  ...     payload
/// </code>
/// The length is checked against the limit before anything is allocated, and the checksum before the payload is
/// decoded, so a peer speaking something else, or a damaged frame, is refused without harm.
/// </summary>
public readonly record struct RpcFrame(short Version, RpcMessageType Type, int Correlation, int PayloadOffset, int PayloadLength)
{
    public const short CurrentVersion = 2;
    public const int HeaderBytes = 16;
    private const int LengthBytes = 4;
    private const int ChecksumOffset = 4;
    private const int VersionOffset = 8;

    /// <summary>Frames larger than this are refused unless the options say otherwise: 16 MiB.</summary>
    public const int DefaultMaxFrameBytes = 16 << 20;

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
        if (Crc32C.Compute(whole[VersionOffset..]) != BinaryPrimitives.ReadUInt32BigEndian(whole[ChecksumOffset..]))
        {
            return RpcFrameStatus.BadChecksum;
        }
        short version = BinaryPrimitives.ReadInt16BigEndian(whole[VersionOffset..]);
        if (version != CurrentVersion)
        {
            frame = new RpcFrame(version, 0, 0, 0, 0);
            return RpcFrameStatus.UnsupportedVersion;
        }
        var type = (RpcMessageType)BinaryPrimitives.ReadInt16BigEndian(whole[10..]);
        int correlation = BinaryPrimitives.ReadInt32BigEndian(whole[12..]);
        frame = new RpcFrame(version, type, correlation, HeaderBytes, whole.Length - HeaderBytes);
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
    /// <see cref="HeaderBytes"/> (written there by <see cref="RpcWriter.BeginFrame"/>), checksum included.</summary>
    public static void Seal(Span<byte> frame, RpcMessageType type, int correlation, short version = CurrentVersion)
    {
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - LengthBytes);
        BinaryPrimitives.WriteInt16BigEndian(frame[VersionOffset..], version);
        BinaryPrimitives.WriteInt16BigEndian(frame[10..], (short)type);
        BinaryPrimitives.WriteInt32BigEndian(frame[12..], correlation);
        BinaryPrimitives.WriteUInt32BigEndian(frame[ChecksumOffset..], Crc32C.Compute(frame[VersionOffset..]));
    }
}
