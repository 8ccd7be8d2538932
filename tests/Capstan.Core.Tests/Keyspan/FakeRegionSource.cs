namespace Capstan.Core.Tests.Keyspan;

using System.Text;
using Capstan.Core.Keyspan;
using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>A region layout kept as a key-ordered list, like TiCDC's mock region cache.</summary>
internal sealed class FakeRegionSource : IRegionSource
{
    private readonly List<Region> _regions = [];

    /// <summary>Number of <see cref="RegionsOf"/> calls.</summary>
    public int Calls { get; private set; }

    /// <summary>When set, <see cref="RegionsOf"/> throws <see cref="RegionSourceException"/>.</summary>
    public bool Fail { get; set; }

    public FakeRegionSource Add(byte[] startKey, byte[] endKey, ulong writtenKeys = 0)
    {
        _regions.Add(new Region((ulong)_regions.Count + 1, startKey, endKey, writtenKeys));
        return this;
    }

    public FakeRegionSource Add(string startKey, string endKey, ulong writtenKeys = 0) =>
        Add(Encoding.ASCII.GetBytes(startKey), Encoding.ASCII.GetBytes(endKey), writtenKeys);

    public IReadOnlyList<Region> RegionsOf(Span span)
    {
        Calls++;
        if (Fail)
        {
            throw new RegionSourceException("region source unavailable (test)");
        }

        var result = new List<Region>();
        foreach (var region in _regions)
        {
            bool endsAfterStart = region.EndKey.Length == 0 || region.EndKey.AsSpan().SequenceCompareTo(span.StartKey) > 0;
            bool startsBeforeEnd = span.EndKey.IsEmpty || region.StartKey.AsSpan().SequenceCompareTo(span.EndKey) < 0;
            if (endsAfterStart && startsBeforeEnd)
            {
                result.Add(region);
            }
        }

        return result;
    }
}

/// <summary>Keys and spans inside a table's key range, as TiCDC's reconciler tests build them.</summary>
internal static class TableKeys
{
    /// <summary>The table's start key followed by one byte: strictly inside the table's range for suffix ≥ 1.</summary>
    public static byte[] Inside(TableId table, byte suffix) => [.. TableSpans.TableStartKey(table), suffix];

    /// <summary>
    /// A span of <paramref name="table"/> from suffix <paramref name="from"/> to <paramref name="to"/>,
    /// where 0 means the table start and 4 the table end (TiCDC's prepareSpanCache convention).
    /// </summary>
    public static Span Span(TableId table, byte from, byte to) =>
        new(table,
            from == 0 ? TableSpans.TableStartKey(table) : Inside(table, from),
            to == 4 ? TableSpans.TableEndKey(table) : Inside(table, to));

    /// <summary>Spans per (table, from, to), and a region source with one region per span.</summary>
    public static (List<Span> Spans, FakeRegionSource Source) Prepare(params (long Table, byte From, byte To)[] layout)
    {
        var spans = new List<Span>();
        var source = new FakeRegionSource();
        foreach (var (table, from, to) in layout)
        {
            var span = Span(table, from, to);
            spans.Add(span);
            source.Add(span.StartKeyArray!, span.EndKeyArray!);
        }

        return (spans, source);
    }
}
