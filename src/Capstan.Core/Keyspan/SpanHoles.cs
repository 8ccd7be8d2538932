namespace Capstan.Core.Keyspan;

using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>Finds which parts of a key range a span map covers (spec §7.2).</summary>
public static class SpanHoles
{
    /// <summary>
    /// Walks the spans of <paramref name="map"/> in [<paramref name="start"/>, <paramref name="end"/>)
    /// (span order) and reports them in <paramref name="covered"/>, and the gaps between
    /// start.StartKey and end.StartKey in <paramref name="holes"/>. Both lists are cleared first,
    /// so callers can reuse them. Keys compare as unsigned bytes.
    /// </summary>
    /// <remarks>
    /// Unlike TiCDC, holes carry the table id of <paramref name="start"/> (TiCDC leaves it 0 and its
    /// reconciler patches it), and overlapping spans throw instead of panicking. A span reaching
    /// beyond end.StartKey leaves no trailing hole.
    /// </remarks>
    /// <exception cref="ArgumentException">start.StartKey is not below end.StartKey.</exception>
    /// <exception cref="ReplicationSetInconsistentException">Two spans in the range overlap.</exception>
    public static void FindHoles<TValue>(SpanMap<TValue> map, Span start, Span end, List<Span> covered, List<Span> holes)
    {
        ArgumentNullException.ThrowIfNull(map);
        CheckProbes(start, end);
        FindHoles(map.Range(start, end), start, end, covered, holes);
    }

    /// <summary>
    /// <see cref="FindHoles{TValue}(SpanMap{TValue}, Span, Span, List{Span}, List{Span})"/> over
    /// entries already cut to [start, end) (e.g. by a cursor over <see cref="SpanMap{TValue}.Ordered"/>).
    /// </summary>
    internal static void FindHoles<TValue>(
        ReadOnlySpan<KeyValuePair<Span, TValue>> entries, Span start, Span end, List<Span> covered, List<Span> holes)
    {
        FindHoles(entries, start.TableId, start.StartKey, end.StartKey, covered, holes);
    }

    /// <summary>
    /// The same walk with the range given as <paramref name="table"/> and raw probe keys (e.g.
    /// encoded on the stack): spans are created only for the holes found.
    /// </summary>
    internal static void FindHoles<TValue>(
        ReadOnlySpan<KeyValuePair<Span, TValue>> entries,
        TableId table,
        ReadOnlySpan<byte> startKey,
        ReadOnlySpan<byte> endKey,
        List<Span> covered,
        List<Span> holes)
    {
        covered.Clear();
        holes.Clear();
        ReadOnlySpan<byte> last = startKey;
        foreach (var entry in entries)
        {
            Span span = entry.Key;
            int order = last.SequenceCompareTo(span.StartKey);
            if (order < 0)
            {
                holes.Add(new Span(table, last, span.StartKey));
            }
            else if (order > 0)
            {
                throw Overlap(covered, span);
            }

            covered.Add(span);
            last = span.EndKey;
        }

        if (covered.Count == 0)
        {
            holes.Add(new Span(table, startKey, endKey));
        }
        else if (last.SequenceCompareTo(endKey) < 0)
        {
            holes.Add(new Span(table, last, endKey));
        }
    }

    /// <summary>Throws unless start.StartKey &lt; end.StartKey.</summary>
    internal static void CheckProbes(Span start, Span end)
    {
        if (start.StartKey.SequenceCompareTo(end.StartKey) >= 0)
        {
            throw new ArgumentException($"FindHoles needs start.StartKey < end.StartKey; got start {start}, end {end}.", nameof(end));
        }
    }

    private static ReplicationSetInconsistentException Overlap(List<Span> covered, Span span)
    {
        string previous = covered.Count > 0 ? covered[^1].ToString() : "the range start";
        return new ReplicationSetInconsistentException(
            $"spans overlap: {span} starts before the end of {previous}; a key range is replicated twice");
    }
}
