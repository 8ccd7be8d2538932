namespace Capstan.Core.Keyspan;

using Capstan.Core.Spans;

/// <summary>
/// Splits a table with many regions into spans of (nearly) equal region counts (spec §7.4).
/// </summary>
/// <remarks>
/// Splits only when the table has more than <c>RegionThreshold</c> regions and at least one
/// capture is alive. The number of spans comes from <see cref="SpanSplitting.SpansNumber"/>; the
/// first <c>regions % spans</c> spans get one region more. Regions out of key order, or a region
/// source that fails, give "no split".
/// </remarks>
internal sealed class RegionCountSplitter : ISpanSplitter
{
    private readonly IRegionSource _regionSource;
    private readonly int _regionThreshold;

    /// <summary>Creates the splitter.</summary>
    public RegionCountSplitter(IRegionSource regionSource, int regionThreshold)
    {
        ArgumentNullException.ThrowIfNull(regionSource);
        ArgumentOutOfRangeException.ThrowIfNegative(regionThreshold);
        _regionSource = regionSource;
        _regionThreshold = regionThreshold;
    }

    /// <inheritdoc/>
    public Span[] Split(Span span, int captureCount)
    {
        IReadOnlyList<Region> regions;
        try
        {
            regions = _regionSource.RegionsOf(span);
        }
        catch (RegionSourceException)
        {
            return [span];
        }

        if (regions.Count <= _regionThreshold || captureCount <= 0)
        {
            return [span];
        }

        var stepper = new EvenStepper(SpanSplitting.SpansNumber(regions.Count, captureCount), regions.Count);
        return Walk(span, regions, ref stepper) ?? [span];
    }

    /// <summary>Cuts the regions into the stepper's spans; null when the regions are out of order.</summary>
    private static Span[]? Walk(Span span, IReadOnlyList<Region> regions, ref EvenStepper stepper)
    {
        int total = regions.Count;
        var spans = new List<Span>(stepper.SpanCount);
        int start = 0;
        int end = stepper.Step();
        while (true)
        {
            byte[] startKey = regions[start].StartKey;
            if (spans.Count > 0 && spans[^1].EndKey.SequenceCompareTo(startKey) > 0)
            {
                return null;
            }

            spans.Add(new Span(span.TableId, startKey, regions[end - 1].EndKey));
            if (end == total)
            {
                break;
            }

            start = end;
            end = Math.Min(end + stepper.Step(), total);
        }

        // Keep the split inside the table: the outer regions usually reach beyond it.
        spans[0] = new Span(span.TableId, span.StartKey, spans[0].EndKey);
        spans[^1] = new Span(span.TableId, spans[^1].StartKey, span.EndKey);
        return [.. spans];
    }

    /// <summary>Hands out region counts per span so that the remainder goes to the first spans.</summary>
    internal struct EvenStepper
    {
        private readonly int _regionsPerSpan;
        private readonly int _extraPerSpan;
        private int _remain;

        /// <summary>Plans <paramref name="pages"/> spans over <paramref name="totalRegions"/> regions (fewer if there are fewer regions).</summary>
        public EvenStepper(int pages, int totalRegions)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
            _regionsPerSpan = totalRegions / pages;
            _remain = totalRegions % pages;
            if (_regionsPerSpan == 0)
            {
                _regionsPerSpan = 1;
                _remain = 0;
                pages = totalRegions;
            }
            else if (_remain > 0)
            {
                // ceil(remain / pages); always 1 since remain < pages.
                _extraPerSpan = (_remain + pages - 1) / pages;
            }

            SpanCount = pages;
        }

        /// <summary>The number of spans the steps make.</summary>
        public int SpanCount { get; }

        /// <summary>The region count of the next span.</summary>
        public int Step()
        {
            if (_remain <= 0)
            {
                return _regionsPerSpan;
            }

            _remain -= _extraPerSpan;
            return _regionsPerSpan + _extraPerSpan;
        }
    }
}
