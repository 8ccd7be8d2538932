namespace Capstan.Runtime.Tests.Workload;

using Capstan.Core.Model;
using Capstan.Core.Spans;
using Capstan.Runtime.Workload;
using CsCheck;

public class SpanKeyComparerTests
{
    private static readonly SpanKeyComparer Comparer = SpanKeyComparer.Instance;

    [Fact(DisplayName = "Span hash: equal spans built from separate key arrays hash alike and compare equal")]
    public void GetHashCode_EqualSpansFromCopiedKeys_AreEqual()
    {
        Gen.Select(Gen.Long[1, 1_000_000], Gen.Byte.Array[0, 40], Gen.Byte.Array[0, 40]).Sample((table, start, end) =>
        {
            var left = new Span(new TableId(table), start, end);
            var right = new Span(new TableId(table), [.. start], [.. end]);
            return Comparer.Equals(left, right) && Comparer.GetHashCode(left) == Comparer.GetHashCode(right);
        }, seed: "0N0XIzNsQ0O2");
    }

    [Fact(DisplayName = "Span hash: agrees with span equality (unequal spans are never Equal)")]
    public void Equals_MatchesSpanEquality()
    {
        Gen.Select(Gen.Long[1, 3], Gen.Byte.Array[0, 3], Gen.Long[1, 3], Gen.Byte.Array[0, 3]).Sample((t1, k1, t2, k2) =>
        {
            var left = new Span(new TableId(t1), k1, null);
            var right = new Span(new TableId(t2), k2, null);
            return Comparer.Equals(left, right) == left.Equals(right)
                && (!left.Equals(right) || Comparer.GetHashCode(left) == Comparer.GetHashCode(right));
        }, seed: "0N0XIzNsQ0O2");
    }

    [Fact(DisplayName = "Span hash: 100,000 whole-table spans and 10,000 spans of one split table hash almost without collisions")]
    public void GetHashCode_WholeTablesAndSplitTable_SpreadWell()
    {
        var hashes = new HashSet<int>();
        for (long table = 1; table <= 100_000; table++)
        {
            hashes.Add(Comparer.GetHashCode(TableSpans.WholeTable(table)));
        }

        Assert.True(hashes.Count >= 99_990, $"{100_000 - hashes.Count} collisions among whole-table spans");

        hashes.Clear();
        for (int split = 0; split < 10_000; split++)
        {
            byte[] start = [.. TableSpans.TableStartKey(7), (byte)(split >> 8), (byte)split];
            byte[] end = [.. TableSpans.TableStartKey(7), (byte)((split + 1) >> 8), (byte)(split + 1)];
            hashes.Add(Comparer.GetHashCode(new Span(new TableId(7), start, end)));
        }

        Assert.True(hashes.Count >= 9_990, $"{10_000 - hashes.Count} collisions among split spans");
    }
}
