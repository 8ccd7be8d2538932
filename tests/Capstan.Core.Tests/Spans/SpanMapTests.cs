namespace Capstan.Core.Tests.Spans;

using Capstan.Core.Spans;
using CsCheck;

public class SpanMapTests
{
    [Fact]
    public void Ordered_AfterRandomOperations_MatchesASortedModel()
    {
        var genOp = Gen.Select(Gen.Int[0, 2], Gen.Long[1, 40], Gen.Int);
        genOp.List[1, 200].Sample(ops =>
        {
            var map = new SpanMap<int>();
            var model = new SortedDictionary<Span, int>();
            foreach (var (kind, table, value) in ops)
            {
                var span = TableSpans.WholeTable(table);
                switch (kind)
                {
                    case 0:
                        map.Set(span, value);
                        model[span] = value;
                        break;
                    case 1:
                        Assert.Equal(model.Remove(span), map.Remove(span));
                        break;
                    default:
                        Assert.Equal(model.Select(p => (p.Key, p.Value)), ToList(map.Ordered()));
                        break;
                }
            }

            Assert.Equal(model.Count, map.Count);
            Assert.Equal(model.Select(p => (p.Key, p.Value)), ToList(map.Ordered()));
        }, iter: 500);
    }

    [Fact]
    public void Range_ReturnsSpansOfOneTable()
    {
        var map = new SpanMap<string>();
        foreach (long table in new long[] { 5, 1, 3, 2, 4 })
        {
            map.Set(TableSpans.WholeTable(table), $"t{table}");
        }

        var (start, end) = TableSpans.TableRange(3);
        var hits = map.Range(start, end).ToArray();
        Assert.Single(hits);
        Assert.Equal("t3", hits[0].Value);
    }

    [Fact]
    public void Ordered_IsASnapshot_WhenTheMapChangesDuringIteration()
    {
        var map = new SpanMap<int>();
        for (int i = 1; i <= 4; i++)
        {
            map.Set(new Span(i), i);
        }

        var seen = new List<int>();
        foreach (var entry in map.Ordered())
        {
            map.Remove(entry.Key);
            seen.Add(entry.Value);
        }

        Assert.Equal([1, 2, 3, 4], seen);
        Assert.Equal(0, map.Count);
        Assert.Equal(0, map.Ordered().Length);
    }

    private static List<(Span, T)> ToList<T>(ReadOnlySpan<KeyValuePair<Span, T>> entries)
    {
        var list = new List<(Span, T)>();
        foreach (var entry in entries)
        {
            list.Add((entry.Key, entry.Value));
        }

        return list;
    }
}
