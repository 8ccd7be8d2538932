namespace Capstan.Core.Tests.Keyspan;

using System.Text;
using Capstan.Core.Keyspan;
using Capstan.Core.Model;
using Capstan.Core.Spans;

public class WriteKeySplitterTests
{
    private static readonly string[] Bounds = ["a", "b", "c", "d", "e", "f", "fa", "fc", "ff"];

    /// <summary>Seven regions [a,b) [b,c) [c,d) [e,f) [f,fa) [fa,fc) [fc,ff) with the given written keys (TiCDC's prepareRegionsInfo).</summary>
    private static Region[] Seven(params ulong[] writtenKeys)
    {
        (string Start, string End)[] keys = [("a", "b"), ("b", "c"), ("c", "d"), ("e", "f"), ("f", "fa"), ("fa", "fc"), ("fc", "ff")];
        return [.. keys.Select((key, index) => new Region((ulong)index + 2, Key(key.Start), Key(key.End), writtenKeys[index]))];
    }

    private static byte[] Key(string text) => Encoding.ASCII.GetBytes(text);

    /// <summary>The span from region <paramref name="first"/> to region <paramref name="last"/> (0-based) of <see cref="Seven"/>.</summary>
    private static Span Regions(Region[] regions, int first, int last, TableId? table = null) =>
        new(table ?? 0, regions[first].StartKey, regions[last].EndKey);

    private static Region[] Uniform(int count, ulong writtenKeys)
    {
        byte[] key = [1];
        var regions = new Region[count];
        for (int index = 0; index < count; index++)
        {
            regions[index] = new Region((ulong)index, key, key, writtenKeys);
        }

        return regions;
    }

    [Fact]
    public void SplitByWrittenKeys_UniformIntoOne_OneSpanOfAllRegions()
    {
        var regions = Seven(100, 100, 100, 100, 100, 100, 100);
        var split = WriteKeySplitter.SplitByWrittenKeys(0, regions, 1, 0);
        Assert.Equal([7], split.RegionCounts);
        Assert.Equal([Regions(regions, 0, 6)], split.Spans);
    }

    [Fact]
    public void SplitByWrittenKeys_UniformIntoTwo_FourAndThreeRegions()
    {
        var regions = Seven(100, 100, 100, 100, 100, 100, 100);
        var split = WriteKeySplitter.SplitByWrittenKeys(0, regions, 2, 0);
        Assert.Equal([4, 3], split.RegionCounts);
        Assert.Equal([404UL, 303UL], split.Weights);
        Assert.Equal([Regions(regions, 0, 3), Regions(regions, 4, 6)], split.Spans);
    }

    [Fact]
    public void SplitByWrittenKeys_UniformIntoThree_ThreeThreeAndOneRegions()
    {
        var regions = Seven(100, 100, 100, 100, 100, 100, 100);
        var split = WriteKeySplitter.SplitByWrittenKeys(0, regions, 3, 0);
        Assert.Equal([3, 3, 1], split.RegionCounts);
        Assert.Equal([303UL, 303UL, 101UL], split.Weights);
        Assert.Equal([Regions(regions, 0, 2), Regions(regions, 3, 5), Regions(regions, 6, 6)], split.Spans);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(10)]
    public void SplitByWrittenKeys_AsManySpansAsRegionsOrMore_OneSpanPerRegion(int baseSpans)
    {
        var regions = Seven(100, 100, 100, 100, 100, 100, 100);
        var split = WriteKeySplitter.SplitByWrittenKeys(0, regions, baseSpans, 0);
        Assert.Equal(Enumerable.Repeat(1, 7), split.RegionCounts);
        Assert.Equal(Enumerable.Repeat(101UL, 7), split.Weights);
        Assert.Equal(Enumerable.Range(0, 7).Select(index => Regions(regions, index, index)), split.Spans);
    }

    [Fact]
    public void SplitByWrittenKeys_HotRegionsAtBothEnds_HotRegionsAlone()
    {
        var regions = Seven(100, 1, 100, 1, 1, 1, 100);
        var split = WriteKeySplitter.SplitByWrittenKeys(0, regions, 4, 4);
        Assert.Equal([1, 2, 3, 1], split.RegionCounts);
        Assert.Equal([101UL, 103UL, 6UL, 101UL], split.Weights);
        Assert.Equal([Regions(regions, 0, 0), Regions(regions, 1, 2), Regions(regions, 3, 5), Regions(regions, 6, 6)], split.Spans);
    }

    [Fact]
    public void SplitByWrittenKeys_OneVeryHotRegion_ColdRegionsGrouped()
    {
        var regions = Seven(1000, 1, 1, 1, 100, 1, 99);
        var split = WriteKeySplitter.SplitByWrittenKeys(0, regions, 4, 4);
        Assert.Equal([Regions(regions, 0, 0), Regions(regions, 1, 4), Regions(regions, 5, 5), Regions(regions, 6, 6)], split.Spans);
    }

    [Fact]
    public void SplitByWrittenKeys_NoWritesAndThresholdZero_SplitsByRegionCount()
    {
        var regions = Seven(0, 0, 0, 0, 0, 0, 0);
        var split = WriteKeySplitter.SplitByWrittenKeys(0, regions, 3, 0);
        Assert.Equal([3, 3, 1], split.RegionCounts);
        Assert.Equal([3UL, 3UL, 1UL], split.Weights);
        Assert.Equal([Regions(regions, 0, 2), Regions(regions, 3, 5), Regions(regions, 6, 6)], split.Spans);
    }

    [Fact]
    public void SplitByWrittenKeys_TotalWritesBelowThreshold_OneSpanWithTheTableId()
    {
        var regions = Seven(1, 1, 1, 1, 1, 1, 1);
        var split = WriteKeySplitter.SplitByWrittenKeys(1, regions, 3, long.MaxValue);
        Assert.Equal([7], split.RegionCounts);
        Assert.Equal([14UL], split.Weights);
        Assert.Equal([Regions(regions, 0, 6, table: 1)], split.Spans);
    }

    [Fact]
    public void SplitByWrittenKeys_UniformRegionsInFive_EqualWeightsAndTheRestLast()
    {
        int count = 4653 + 1051 + 745 + 9530 + 1;
        var split = WriteKeySplitter.SplitByWrittenKeys(1, Uniform(count, 2), 5, 4);
        Assert.Equal([9591UL, 9591UL, 9591UL, 9591UL, 9576UL], split.Weights);
        Assert.Equal(count, split.RegionCounts.Sum());
    }

    [Fact]
    public void SplitByWrittenKeys_ManyMoreRegionsThanTheSpanLimit_SpansCappedAtTheLimit()
    {
        int count = (SpanSplitting.SpanRegionLimit * 5) + 1000;
        var split = WriteKeySplitter.SplitByWrittenKeys(1, Uniform(count, 2), 5, 4);
        Assert.Equal([50_000, 50_000, 50_000, 50_000, 50_000, 1000], split.RegionCounts);
    }

    [Fact]
    public void SplitByWrittenKeys_SpanCountFromCaptures_NoSpanMuchOverTheLimit()
    {
        int count = SpanSplitting.SpanRegionLimit * 6;
        int spanCount = SpanSplitting.SpansNumber(count, 2);
        var split = WriteKeySplitter.SplitByWrittenKeys(0, Uniform(count, 100), spanCount, 0);
        Assert.Equal(spanCount, split.RegionCounts.Length);
        Assert.All(split.RegionCounts, regions => Assert.True(regions <= SpanSplitting.SpanRegionLimit * 1.1));
        Assert.Equal(count, split.RegionCounts.Sum());
    }

    [Fact]
    public void SplitByWrittenKeys_SkewedRandomWrites_AtLeastTheBaseSpansAndNoneMuchOverTheLimit()
    {
        const int seed = 20240611;
        var random = new Random(seed);
        int count = (SpanSplitting.SpanRegionLimit * 10) + 100;
        var written = new ulong[count];
        int hot = count / 100;
        int warm = count * 5 / 100;
        for (int index = 0; index < count; index++)
        {
            written[index] = index < hot ? (ulong)random.Next(20_001, 100_001)
                : index < hot + warm ? (ulong)random.Next(5000, 10_001)
                : (ulong)random.Next(1000);
        }

        // Shuffle, but leave 70% in place so that the hot regions stay mostly at the front.
        for (int index = count - 1; index > 0; index--)
        {
            if (random.NextDouble() >= 0.7)
            {
                int other = random.Next(index + 1);
                (written[index], written[other]) = (written[other], written[index]);
            }
        }

        var regions = Uniform(count, 0);
        for (int index = 0; index < count; index++)
        {
            regions[index] = regions[index] with { WrittenKeys = written[index] };
        }

        int spanCount = SpanSplitting.SpansNumber(count, 3);
        var split = WriteKeySplitter.SplitByWrittenKeys(0, regions, spanCount, 0);
        Assert.True(split.RegionCounts.Length >= spanCount, $"seed {seed}");
        Assert.All(split.RegionCounts[..^1], regions => Assert.True(regions <= SpanSplitting.SpanRegionLimit * 1.1, $"seed {seed}"));
        Assert.Equal(count, split.RegionCounts.Sum());
    }

    [Fact]
    public void Split_ThresholdZero_DisabledSoTheNextSplitterRuns()
    {
        var source = new FakeRegionSource().Add("a", "b", 100).Add("b", "c", 100);
        Assert.Empty(new WriteKeySplitter(source, 0).Split(new Span(1, Key("a"), Key("c")), 3));
        Assert.Equal(0, source.Calls);
    }

    [Fact]
    public void Split_RegionSourceFailsOrHasNoRegions_EmptySoTheNextSplitterRuns()
    {
        var failing = new FakeRegionSource().Add("a", "b", 100);
        failing.Fail = true;
        Assert.Empty(new WriteKeySplitter(failing, 1).Split(new Span(1, Key("a"), Key("c")), 3));
        Assert.Empty(new WriteKeySplitter(new FakeRegionSource(), 1).Split(new Span(1, Key("a"), Key("c")), 3));
    }

    [Fact]
    public void Split_OneRegion_WholeSpan()
    {
        var source = new FakeRegionSource().Add("", "", 1000);
        var span = new Span(1, Key("a"), Key("c"));
        Assert.Equal([span], new WriteKeySplitter(source, 1).Split(span, 3));
    }

    [Fact]
    public void Split_OuterRegionsReachBeyondTheSpan_SpansClampedToIt()
    {
        var source = new FakeRegionSource();
        for (int index = 0; index + 1 < Bounds.Length; index++)
        {
            source.Add(Bounds[index], Bounds[index + 1], 100);
        }

        var span = new Span(5, Key("aa"), Key("fe"));
        var spans = new WriteKeySplitter(source, 1).Split(span, 1);

        Assert.Equal(3, spans.Length);
        Assert.True(SpanSplitting.IsExactCover(spans, span), string.Join(", ", spans));
    }
}
