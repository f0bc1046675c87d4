using Eddy.Client.Bench;

namespace Eddy.Client.Tests;

/// <summary>A bench message tells its id, and any byte changed in it is caught.</summary>
public sealed class BenchPayloadTests
{
    [Theory]
    [InlineData(0L, 12)]
    [InlineData(1L, 13)]
    [InlineData(299_999L, 512)]
    [InlineData(long.MaxValue, 1024)]
    public void AMessageReadsBackAsItsId(long id, int size)
    {
        var value = new byte[size];
        BenchPayload.Write(value, id);
        Assert.Equal(id, BenchPayload.Read(value));
    }

    [Fact]
    public void EveryFlippedBitIsCaught()
    {
        var value = new byte[100];
        BenchPayload.Write(value, 42);
        for (int bit = 0; bit < value.Length * 8; bit++)
        {
            value[bit / 8] ^= (byte)(1 << (bit % 8));
            long read = BenchPayload.Read(value);
            // A flip in the id itself yields another id whose filler does not match this one: caught as well.
            Assert.True(read == -1, $"bit {bit} flipped, read as id {read}");
            value[bit / 8] ^= (byte)(1 << (bit % 8));
        }
        Assert.Equal(42, BenchPayload.Read(value));
    }

    [Fact]
    public void TooShortOrForeignValuesAreNoMessage()
    {
        Assert.Equal(-1, BenchPayload.Read(new byte[11]));
        Assert.Equal(-1, BenchPayload.Read("not a bench message"u8));
    }
}
