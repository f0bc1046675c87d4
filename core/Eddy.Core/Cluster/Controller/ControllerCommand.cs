using Eddy.Rpc;

namespace Eddy.Cluster;

/// <summary>What a controller command does. Numbers are stored in the controller log: never reuse one.</summary>
public enum ControllerCommandType : byte
{
    /// <summary>The cluster formed: its id. Applied once; a later one is ignored.</summary>
    CreateCluster = 1,

    /// <summary>A node joined, or its addresses, rack or shard count changed.</summary>
    RegisterBroker = 2,
}

/// <summary>
/// One entry of the controller's Raft log: a change to the cluster's metadata, applied in log order on every node.
/// Encoded as a type byte, a version byte (0) and the type's fields; a command this version does not know is skipped
/// by every node of this version alike, with an error logged.
/// </summary>
public readonly record struct ControllerCommand(ControllerCommandType Type, string ClusterId, BrokerInfo? Broker)
{
    private const byte Version = 0;

    public static ControllerCommand CreateCluster(string clusterId) => new(ControllerCommandType.CreateCluster, clusterId, null);

    public static ControllerCommand RegisterBroker(BrokerInfo broker) => new(ControllerCommandType.RegisterBroker, "", broker);

    public byte[] Encode()
    {
        var writer = new RpcWriter();
        writer.WriteByte((byte)Type);
        writer.WriteByte(Version);
        switch (Type)
        {
            case ControllerCommandType.CreateCluster:
                writer.WriteString(ClusterId, Hello.MaxClusterIdBytes);
                break;
            case ControllerCommandType.RegisterBroker:
                Broker!.Write(writer);
                break;
            default:
                throw new InvalidOperationException($"unknown controller command {Type}");
        }
        return writer.Written.ToArray();
    }

    /// <summary>Decodes a command; throws <see cref="RpcFormatException"/> for one this version cannot read.</summary>
    public static ControllerCommand Decode(ReadOnlySpan<byte> data)
    {
        var reader = new RpcReader(data);
        var type = (ControllerCommandType)reader.ReadByte();
        byte version = reader.ReadByte();
        if (version != Version)
        {
            throw new RpcFormatException($"controller command {type} version {version}, this node reads {Version}");
        }
        var command = type switch
        {
            ControllerCommandType.CreateCluster => CreateCluster(reader.ReadString(Hello.MaxClusterIdBytes)),
            ControllerCommandType.RegisterBroker => RegisterBroker(BrokerInfo.Read(ref reader)),
            _ => throw new RpcFormatException($"unknown controller command type {(byte)type}"),
        };
        reader.End();
        return command;
    }
}
