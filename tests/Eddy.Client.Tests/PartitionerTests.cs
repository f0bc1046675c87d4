using System.Text;
using Eddy.Client.Producing;

namespace Eddy.Client.Tests;

/// <summary>Keys land where Kafka's Java client puts them: murmur2 as Kafka's Utils.murmur2 computes it.</summary>
public sealed class PartitionerTests
{
    [Theory]
    // Kafka's own test vectors (UtilsTest.testMurmur2).
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2MatchesKafka(string key, int expected) => Assert.Equal(expected, Partitioner.Murmur2(Encoding.ASCII.GetBytes(key)));

    [Fact]
    public void APartitionIsTheHashMadePositiveModuloTheCount()
    {
        // -973932308 & 0x7fffffff = 1173551340; modulo 7 = 3.
        Assert.Equal(1173551340 % 7, Partitioner.ForKey("21"u8, 7));
        for (int partitions = 1; partitions <= 64; partitions++)
        {
            Assert.InRange(Partitioner.ForKey("any key"u8, partitions), 0, partitions - 1);
        }
    }
}
