namespace Capstan.Core.Tests.Keyspan;

using System.Text;
using Capstan.Core.Keyspan;
using Capstan.Core.Spans;

public class RegionCountSplitterTests
{
    private static readonly Span Table1 = new(1, Key("t1"), Key("t2"));

    private static byte[] Key(string text) => Encoding.ASCII.GetBytes(text);

    private static Span S(string start, string end) => new(1, Key(start), Key(end));

    /// <summary>Five regions inside [t1, t2) and one beyond, as in TiCDC's TestSplitSpan.</summary>
    private static FakeRegionSource FiveRegions() => new FakeRegionSource()
        .Add("t1_0", "t1_1").Add("t1_1", "t1_2").Add("t1_2", "t1_3").Add("t1_3", "t1_4").Add("t1_4", "t2_2").Add("t2_2", "t2_3");

    [Theory]
    [InlineData(7)]
    [InlineData(6)]
    [InlineData(5)]
    [InlineData(4)]
    [InlineData(3)]
    [InlineData(2)]
    public void Split_FiveRegionsAndTwoOrMoreCaptures_OneSpanPerRegion(int captures)
    {
        var spans = new RegionCountSplitter(FiveRegions(), regionThreshold: 1).Split(Table1, captures);
        Assert.Equal([S("t1", "t1_1"), S("t1_1", "t1_2"), S("t1_2", "t1_3"), S("t1_3", "t1_4"), S("t1_4", "t2")], spans);
    }

    [Fact]
    public void Split_FiveRegionsAndOneCapture_ThreeSpansOfTwoTwoAndOneRegions()
    {
        var spans = new RegionCountSplitter(FiveRegions(), regionThreshold: 1).Split(Table1, 1);
        Assert.Equal([S("t1", "t1_2"), S("t1_2", "t1_4"), S("t1_4", "t2")], spans);
    }

    [Theory]
    [InlineData(0, 1, 1000, 1000)]
    [InlineData(1, 3, 333, 334)]
    [InlineData(3, 9, 111, 112)]
    [InlineData(7, 42, 23, 24)]
    [InlineData(999, 100, 10, 10)]
    [InlineData(1000, 100, 10, 10)]
    [InlineData(2000, 100, 10, 10)]
    public void Split_ThousandRegions_EvenSpans(int captures, int spanCount, int minRegions, int maxRegions)
    {
        var source = new FakeRegionSource();
        for (int index = 0; index < 1000; index++)
        {
            source.Add($"t1_{index:D9}", $"t1_{index + 1:D9}");
        }

        var spans = new RegionCountSplitter(source, regionThreshold: 1).Split(Table1, captures);

        Assert.Equal(spanCount, spans.Length);
        Assert.True(SpanSplitting.IsExactCover(spans, Table1));
        int previousSize = int.MaxValue;
        foreach (var span in spans)
        {
            int start = span.StartKey.SequenceEqual(Table1.StartKey) ? 0 : RegionIndex(span.StartKey);
            int end = span.EndKey.SequenceEqual(Table1.EndKey) ? 1000 : RegionIndex(span.EndKey);
            int size = end - start;
            Assert.InRange(size, minRegions, maxRegions);
            Assert.True(size <= previousSize, "larger spans come first");
            previousSize = size;
        }
    }

    private static int RegionIndex(ReadOnlySpan<byte> key) =>
        int.Parse(Encoding.ASCII.GetString(key)["t1_".Length..], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Split_RegionsOutOfOrder_NoSplit()
    {
        var source = new FakeRegionSource().Add("t1_0", "t1_1").Add("t1_1", "t1_4").Add("t1_2", "t1_3");
        var spans = new RegionCountSplitter(source, regionThreshold: 1).Split(Table1, 1);
        Assert.Equal([Table1], spans);
    }

    [Fact]
    public void Split_RegionsAtMostThreshold_NoSplit()
    {
        var spans = new RegionCountSplitter(FiveRegions(), regionThreshold: 5).Split(Table1, 3);
        Assert.Equal([Table1], spans);
    }

    [Fact]
    public void Split_RegionSourceFails_NoSplit()
    {
        var source = FiveRegions();
        source.Fail = true;
        var spans = new RegionCountSplitter(source, regionThreshold: 1).Split(Table1, 3);
        Assert.Equal([Table1], spans);
    }

    [Theory]
    [InlineData(3, 1000)]
    [InlineData(1000, 3)]
    [InlineData(1, 1)]
    [InlineData(100, 1000)]
    [InlineData(42, 1000)]
    public void EvenStepper_Steps_SumToTheRegionCountInSpanCountSteps(int pages, int regions)
    {
        var stepper = new RegionCountSplitter.EvenStepper(pages, regions);
        Assert.Equal(Math.Min(pages, regions), stepper.SpanCount);
        var steps = Enumerable.Range(0, stepper.SpanCount).Select(_ => stepper.Step()).ToList();
        Assert.Equal(regions, steps.Sum());
        Assert.True(steps.Max() - steps.Min() <= 1);
    }
}
