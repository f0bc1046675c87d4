using Eddy.Cluster;

namespace Eddy.Broker.Tests;

/// <summary>OffsetForLeaderEpoch's answers from an epoch history, case by case as Kafka's
/// LeaderEpochFileCache.endOffsetFor gives them (its unit tests' cases: current, between, before, after, undefined).</summary>
public class LeaderEpochHistoryTests
{
    // Epoch 2 from offset 0, 4 from 10, 7 (current) from 25; the log ends at 30.
    private static readonly EpochStart[] History = [new(2, 0), new(4, 10), new(7, 25)];

    [Theory]
    [InlineData(7, 7, 30)]   // the current epoch ends at the log end
    [InlineData(4, 4, 25)]   // a known epoch ends where the next starts
    [InlineData(2, 2, 10)]
    [InlineData(5, 4, 25)]   // between known epochs: the highest known below it, ending where the next starts
    [InlineData(3, 2, 10)]
    [InlineData(1, 1, 0)]    // before every known epoch: the epoch asked for, ending where the first starts
    [InlineData(8, -1, -1)]  // after every known epoch: undefined
    [InlineData(-1, -1, -1)] // undefined asked, undefined answered
    public void EndOffsetForAnswersAsKafkasLeaderEpochCache(int asked, int epoch, long end)
        => Assert.Equal((epoch, end), LeaderEpochHistory.EndOffsetFor(History, asked, 30));

    [Fact]
    public void AnEmptyHistoryKnowsNoEpoch() => Assert.Equal((-1, -1L), LeaderEpochHistory.EndOffsetFor([], 0, 0));

    [Theory]
    [InlineData(0, 2)]
    [InlineData(9, 2)]
    [InlineData(10, 4)]
    [InlineData(30, 7)]
    public void EpochOfAnOffsetIsTheEpochWhoseRangeHoldsIt(long offset, int epoch)
        => Assert.Equal(epoch, LeaderEpochHistory.EpochOf(History, offset));
}
