namespace Eddy.Client.Producing;

/// <summary>Kafka's default partitioner for keyed records: murmur2 of the key, made positive, modulo the partition
/// count, so that a key lands where the Java client and librdkafka's murmur2 partitioner put it.</summary>
public static class Partitioner
{
    public static int ForKey(ReadOnlySpan<byte> key, int partitions) => (Murmur2(key) & 0x7fffffff) % partitions;

    /// <summary>Kafka's Utils.murmur2 (seed 0x9747b28c).</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        int length = data.Length;
        uint h = 0x9747b28c ^ (uint)length;
        int i = 0;
        for (; i + 4 <= length; i += 4)
        {
            uint k = (uint)(data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        switch (length - i)
        {
            case 3:
                h ^= (uint)data[i + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[i + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[i];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return (int)h;
    }
}
