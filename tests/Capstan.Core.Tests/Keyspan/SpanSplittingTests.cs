namespace Capstan.Core.Tests.Keyspan;

using Capstan.Core.Keyspan;
using Capstan.Core.Spans;

public class SpanSplittingTests
{
    [Theory]
    [InlineData(1, 10, 1)]
    [InlineData(100, 2, 6)]
    [InlineData(100, 3, 9)]
    [InlineData(100, 5, 20)]
    [InlineData(10000, 11, 100)]
    [InlineData(0, 5, 1)]
    [InlineData(1000, 0, 0)]
    [InlineData(5_000_000, 1, 100)]
    [InlineData(300_000, 2, 6)]
    [InlineData(500_100, 3, 10)]
    [InlineData(1000, 1_000_000, 100)]
    public void SpansNumber_RegionsAndCaptures_MatchesTiCdc(int regions, int captures, int expected) =>
        Assert.Equal(expected, SpanSplitting.SpansNumber(regions, captures));

    [Fact]
    public void IsExactCover_ContiguousSpansFromStartToEnd_True()
    {
        var whole = TableSpans.WholeTable(1);
        Span[] spans = [TableKeys.Span(1, 0, 2), TableKeys.Span(1, 2, 4)];
        Assert.True(SpanSplitting.IsExactCover(spans, whole));
    }

    [Fact]
    public void IsExactCover_GapOverlapWrongEndsOrEmptySpan_False()
    {
        var whole = TableSpans.WholeTable(1);
        Assert.False(SpanSplitting.IsExactCover([TableKeys.Span(1, 0, 1), TableKeys.Span(1, 2, 4)], whole));
        Assert.False(SpanSplitting.IsExactCover([TableKeys.Span(1, 0, 3), TableKeys.Span(1, 2, 4)], whole));
        Assert.False(SpanSplitting.IsExactCover([TableKeys.Span(1, 1, 2), TableKeys.Span(1, 2, 4)], whole));
        Assert.False(SpanSplitting.IsExactCover([TableKeys.Span(1, 0, 2), TableKeys.Span(1, 2, 3)], whole));
        Assert.False(SpanSplitting.IsExactCover([TableKeys.Span(1, 0, 2), TableKeys.Span(1, 2, 2), TableKeys.Span(1, 2, 4)], whole));
        Assert.False(SpanSplitting.IsExactCover([TableKeys.Span(1, 0, 2), TableKeys.Span(2, 2, 4)], whole));
        Assert.False(SpanSplitting.IsExactCover([], whole));
    }
}
