namespace Capstan.Core.Keyspan;

using Capstan.Core.Spans;

/// <summary>Constants and helpers shared by the splitters (spec §7.3).</summary>
internal static class SpanSplitting
{
    /// <summary>The maximum number of regions one span should cover (TiCDC's spanRegionLimit).</summary>
    public const int SpanRegionLimit = 50_000;

    /// <summary>No table is split into more spans than this.</summary>
    public const int MaxSpanCount = 100;

    /// <summary>The smallest number of spans per capture a split aims for.</summary>
    public const int BaseCoefficient = 3;

    /// <summary>
    /// How many spans a table with <paramref name="regionCount"/> regions should be split into
    /// for <paramref name="captureCount"/> captures: max(captures × max(captures − 1, 3),
    /// regions / 50,000), at most 100; 1 for a table of at most one region.
    /// </summary>
    public static int SpansNumber(int regionCount, int captureCount)
    {
        if (regionCount <= 1)
        {
            return 1;
        }

        long captures = Math.Max(captureCount, 0);
        long coefficient = Math.Max(captures - 1, BaseCoefficient);
        long spans = Math.Max(captures * coefficient, regionCount / SpanRegionLimit);
        return (int)Math.Min(spans, MaxSpanCount);
    }

    /// <summary>
    /// True when <paramref name="spans"/> are non-empty, contiguous, in key order, and cover
    /// exactly <paramref name="whole"/>: the only shape a split may have.
    /// </summary>
    public static bool IsExactCover(IReadOnlyList<Span> spans, Span whole)
    {
        if (spans.Count == 0
            || !spans[0].StartKey.SequenceEqual(whole.StartKey)
            || !spans[^1].EndKey.SequenceEqual(whole.EndKey))
        {
            return false;
        }

        for (int index = 0; index < spans.Count; index++)
        {
            Span span = spans[index];
            if (span.TableId != whole.TableId || span.StartKey.SequenceCompareTo(span.EndKey) >= 0)
            {
                return false;
            }

            if (index > 0 && !spans[index - 1].EndKey.SequenceEqual(span.StartKey))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>One way of splitting a new table's whole span; the reconciler tries them in priority order.</summary>
internal interface ISpanSplitter
{
    /// <summary>
    /// Splits <paramref name="span"/> for <paramref name="captureCount"/> alive captures. An empty
    /// result means "this splitter does not apply"; a single span means "do not split".
    /// </summary>
    Span[] Split(Span span, int captureCount);
}
