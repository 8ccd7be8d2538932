namespace Capstan.Core.Tests.Keyspan;

using Capstan.Core.Keyspan;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using CsCheck;

public class SpanHolesTests
{
    private static readonly TableId Table = 7;

    private static SpanMap<int> MapOf(params Span[] spans)
    {
        var map = new SpanMap<int>();
        foreach (var span in spans)
        {
            map.Set(span, 0);
        }

        return map;
    }

    private static (List<Span> Covered, List<Span> Holes) Find(SpanMap<int> map, TableId table)
    {
        var (start, end) = TableSpans.TableRange(table);
        List<Span> covered = [new Span(99)]; // stale content: FindHoles clears the lists
        List<Span> holes = [new Span(99)];
        SpanHoles.FindHoles(map, start, end, covered, holes);
        return (covered, holes);
    }

    [Fact]
    public void FindHoles_FullyCovered_NoHoles()
    {
        Span[] spans = [TableKeys.Span(Table, 0, 1), TableKeys.Span(Table, 1, 3), TableKeys.Span(Table, 3, 4)];
        var (covered, holes) = Find(MapOf(spans), Table);
        Assert.Equal(spans, covered);
        Assert.Empty(holes);
    }

    [Fact]
    public void FindHoles_NothingCovered_OneHoleOverTheWholeTable()
    {
        var (covered, holes) = Find(MapOf(TableKeys.Span(6, 0, 4), TableKeys.Span(8, 0, 4)), Table);
        Assert.Empty(covered);
        Assert.Equal([TableSpans.WholeTable(Table)], holes);
    }

    [Fact]
    public void FindHoles_LeadingHole_ReportedBeforeTheFirstSpan()
    {
        var (covered, holes) = Find(MapOf(TableKeys.Span(Table, 2, 4)), Table);
        Assert.Equal([TableKeys.Span(Table, 2, 4)], covered);
        Assert.Equal([TableKeys.Span(Table, 0, 2)], holes);
    }

    [Fact]
    public void FindHoles_TrailingHole_ReportedAfterTheLastSpan()
    {
        var (covered, holes) = Find(MapOf(TableKeys.Span(Table, 0, 2)), Table);
        Assert.Equal([TableKeys.Span(Table, 0, 2)], covered);
        Assert.Equal([TableKeys.Span(Table, 2, 4)], holes);
    }

    [Fact]
    public void FindHoles_MiddleHoles_OneHolePerGap()
    {
        var map = MapOf(TableKeys.Span(Table, 0, 1), TableKeys.Span(Table, 2, 3), TableKeys.Span(Table, 5, 4));
        var (covered, holes) = Find(map, Table);
        Assert.Equal([TableKeys.Span(Table, 0, 1), TableKeys.Span(Table, 2, 3), TableKeys.Span(Table, 5, 4)], covered);
        Assert.Equal([TableKeys.Span(Table, 1, 2), TableKeys.Span(Table, 3, 5)], holes);
    }

    [Fact(DisplayName = "FindHoles: holes carry the probe's table id (Go leaves it 0 and its reconciler patches it)")]
    public void FindHoles_Holes_CarryTheTableId()
    {
        var (_, holes) = Find(MapOf(TableKeys.Span(Table, 1, 2)), Table);
        Assert.Equal(2, holes.Count);
        Assert.All(holes, hole => Assert.Equal(Table, hole.TableId));
    }

    [Fact(DisplayName = "FindHoles: overlapping spans throw ReplicationSetInconsistentException (Go panics and takes the node down)")]
    public void FindHoles_OverlappingSpans_Throws()
    {
        var map = MapOf(TableKeys.Span(Table, 0, 3), TableKeys.Span(Table, 2, 4));
        var error = Assert.Throws<ReplicationSetInconsistentException>(() => Find(map, Table));
        Assert.Contains("overlap", error.Message, StringComparison.Ordinal);
        Assert.Contains(TableKeys.Span(Table, 2, 4).ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindHoles_StartNotBeforeEnd_ThrowsArgumentException()
    {
        var (start, end) = TableSpans.TableRange(Table);
        Assert.Throws<ArgumentException>(() => SpanHoles.FindHoles(MapOf(), end, start, [], []));
        Assert.Throws<ArgumentException>(() => SpanHoles.FindHoles(MapOf(), start, start, [], []));
    }

    [Fact]
    public void FindHoles_RandomPartitionsWithMissingParts_CoveredAndHolesTileTheTable()
    {
        // Cut points 1..250 split the table; each piece is present or missing.
        var gen = Gen.Select(Gen.Byte[1, 250].HashSet[0, 12], Gen.Bool.Array[13]);
        gen.Sample((cuts, present) =>
        {
            var points = cuts.Order().ToList();
            var pieces = new List<Span>();
            var bounds = new List<byte[]> { TableSpans.TableStartKey(Table) };
            bounds.AddRange(points.Select(point => TableKeys.Inside(Table, point)));
            bounds.Add(TableSpans.TableEndKey(Table));
            for (int index = 0; index + 1 < bounds.Count; index++)
            {
                pieces.Add(new Span(Table, bounds[index], bounds[index + 1]));
            }

            var kept = pieces.Where((_, index) => present[index]).ToArray();
            var (covered, holes) = Find(MapOf(kept), Table);
            Assert.Equal(kept, covered);
            var tiles = covered.Concat(holes).OrderBy(span => span).ToList();
            Assert.True(SpanSplitting.IsExactCover(tiles, TableSpans.WholeTable(Table)), string.Join(", ", tiles));
            Assert.True(holes.Count <= covered.Count + 1);
        }, iter: 300, seed: "0N0XIzNsQ0O2");
    }
}
