namespace Capstan.Core.Tests.Spans;

using Capstan.Core.Model;
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

    [Fact(DisplayName = "Cursor lookups: any key order gives the dictionary's answers; ascending walks find every key")]
    public void TryGetValue_WithCursor_AgreesWithTheDictionary()
    {
        var random = new SeededRandom(42);
        var map = new SpanMap<int>();
        for (int table = 0; table < 500; table += 1 + random.Next(3))
        {
            map.Set(new Span(table), table);
        }

        _ = map.Ordered();
        var keys = Enumerable.Range(-5, 520).Select(table => new Span(table)).ToList();
        foreach (var order in new[] { keys, keys.AsEnumerable().Reverse().ToList(), keys.OrderBy(_ => random.Next(1000)).ToList() })
        {
            var cursor = default(SpanMapCursor);
            foreach (var key in order)
            {
                bool expected = map.TryGetValue(key, out int expectedValue);
                bool actual = map.TryGetValue(key, ref cursor, out int actualValue);
                Assert.True(expected == actual, $"seed 42, key {key}");
                Assert.Equal(expectedValue, actualValue);
            }
        }

        var strided = default(SpanMapCursor); // every 8th key: the stride is learnt
        for (int index = 0; index < map.Count; index += 8)
        {
            var key = map.Ordered()[index].Key;
            Assert.True(map.TryGetValue(key, ref strided, out int value));
            Assert.Equal((int)key.TableId.Value, value);
        }
    }

    [Fact(DisplayName = "Cursor lookups: while the map changes during a walk, answers stay right (the hash table answers)")]
    public void TryGetValue_WithCursor_MapChangingDuringTheWalk()
    {
        var map = new SpanMap<int>();
        for (int table = 0; table < 100; table++)
        {
            map.Set(new Span(table), table);
        }

        _ = map.Ordered();
        var cursor = default(SpanMapCursor);
        Assert.True(map.TryGetValue(new Span(10), ref cursor, out _));
        map.Remove(new Span(11));
        map.Set(new Span(1000), 1000);
        map.Set(new Span(12), -12);
        Assert.False(map.TryGetValue(new Span(11), ref cursor, out _));
        Assert.True(map.TryGetValue(new Span(12), ref cursor, out int replaced));
        Assert.Equal(-12, replaced);
        Assert.True(map.TryGetValue(new Span(1000), ref cursor, out int added));
        Assert.Equal(1000, added);

        _ = map.Ordered();
        cursor = default;
        Assert.True(map.TryGetValue(new Span(12), ref cursor, out replaced));
        Assert.Equal(-12, replaced);
        Assert.False(map.TryGetValue(new Span(11), ref cursor, out _));
    }
}
