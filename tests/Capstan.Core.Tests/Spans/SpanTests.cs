namespace Capstan.Core.Tests.Spans;

using Capstan.Core.Spans;
using CsCheck;

public class SpanTests
{
    [Fact]
    public void WholeTable_EncodesAsTiDb_EighteenBytesWithMarkers()
    {
        Span span = TableSpans.WholeTable(1);
        // 't' + (1 ^ sign bit, big-endian) + "_r", memcomparable-encoded.
        byte[] expectedStart = [0x74, 0x80, 0, 0, 0, 0, 0, 0, 0xFF, 0x01, 0x5F, 0x72, 0, 0, 0, 0, 0, 0xFA];
        Assert.Equal(expectedStart, span.StartKey.ToArray());
        Assert.Equal(18, span.EndKey.Length);
        Assert.Equal((byte)0x73, span.EndKey[11]);
        Assert.True(span.StartKey.SequenceCompareTo(span.EndKey) < 0);
    }

    [Fact]
    public void EncodeBytes_LengthMultipleOfEight_AppendsEmptyGroup()
    {
        byte[] encoded = TableSpans.EncodeBytes(new byte[8]);
        Assert.Equal(18, encoded.Length);
        Assert.Equal(0xFF, encoded[8]);
        Assert.Equal(0xF7, encoded[17]);
    }

    [Fact]
    public void Equality_NullAndEmptyKeysAreEqual()
    {
        Assert.Equal(new Span(3, null, null), new Span(3, [], []));
        Assert.Equal(new Span(3, null, null).GetHashCode(), new Span(3, [], []).GetHashCode());
    }

    [Fact]
    public void Compare_TableIdFirst_EvenWhenStartKeyDisagrees()
    {
        // The Go comparator answers "less" here; ours is lexicographic on (table, start, end).
        var a = new Span(2, [0x01], null);
        var b = new Span(1, [0x02], null);
        Assert.True(b < a);
        Assert.True(a > b);
    }

    [Fact]
    public void Compare_EndKeyBreaksTies_ConsistentWithEquality()
    {
        var a = new Span(1, [0x01], [0x05]);
        var b = new Span(1, [0x01], [0x06]);
        Assert.NotEqual(a, b);
        Assert.True(a < b);
    }

    [Fact]
    public void Compare_IsATotalOrder_Property()
    {
        var genKey = Gen.Byte.Array[0, 3];
        var genSpan = Gen.Select(Gen.Long[-3, 3], genKey, genKey).Select((t, s, e) => new Span(t, s, e));
        Gen.Select(genSpan, genSpan, genSpan).Sample((a, b, c) =>
        {
            Assert.Equal(Math.Sign(a.CompareTo(b)), -Math.Sign(b.CompareTo(a)));
            Assert.Equal(a.CompareTo(b) == 0, a.Equals(b));
            if (a <= b && b <= c)
            {
                Assert.True(a <= c);
            }
        }, iter: 5000);
    }

    [Fact]
    public void TableRange_ContainsWholeTableSpan_OfThatTableOnly()
    {
        var (start, end) = TableSpans.TableRange(7);
        Assert.True(start <= TableSpans.WholeTable(7) && TableSpans.WholeTable(7) < end);
        Assert.True(TableSpans.WholeTable(8) >= end);
        Assert.True(TableSpans.WholeTable(6) < start);
    }
}
