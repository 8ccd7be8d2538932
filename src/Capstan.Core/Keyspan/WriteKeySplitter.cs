namespace Capstan.Core.Keyspan;

using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>
/// Splits a table into spans of (nearly) equal write weight (spec §7.5, TiCDC's
/// splitRegionsByWrittenKeysV1). Disabled when <c>WriteKeyThreshold</c> is 0.
/// </summary>
/// <remarks>
/// Each region weighs its written keys + 1, so idle regions still count. A span is closed when its
/// weight exceeds total / spans, when it reaches <see cref="SpanSplitting.SpanRegionLimit"/>
/// regions, or when only as many regions are left as spans still to make. When the last planned
/// span would be too heavy, more spans are planned (rest weight / limit + 1). Tables whose total
/// written keys are below the threshold stay one span.
/// </remarks>
internal sealed class WriteKeySplitter : ISpanSplitter
{
    private readonly IRegionSource _regionSource;
    private readonly long _writeKeyThreshold;

    /// <summary>Creates the splitter; a threshold of 0 disables it.</summary>
    public WriteKeySplitter(IRegionSource regionSource, long writeKeyThreshold)
    {
        ArgumentNullException.ThrowIfNull(regionSource);
        ArgumentOutOfRangeException.ThrowIfNegative(writeKeyThreshold);
        _regionSource = regionSource;
        _writeKeyThreshold = writeKeyThreshold;
    }

    /// <inheritdoc/>
    public Span[] Split(Span span, int captureCount)
    {
        if (_writeKeyThreshold == 0)
        {
            return [];
        }

        Region[] regions;
        try
        {
            regions = [.. _regionSource.RegionsOf(span)];
        }
        catch (RegionSourceException)
        {
            return [];
        }

        if (regions.Length == 0)
        {
            return [];
        }

        int spanCount = SpanSplitting.SpansNumber(regions.Length, captureCount);
        if (spanCount <= 1)
        {
            return [span];
        }

        // Keep the split inside the table: the outer regions usually reach beyond it.
        regions[0] = regions[0] with { StartKey = span.StartKeyArray ?? [] };
        regions[^1] = regions[^1] with { EndKey = span.EndKeyArray ?? [] };
        return SplitByWrittenKeys(span.TableId, regions, spanCount, _writeKeyThreshold).Spans;
    }

    /// <summary>
    /// The core algorithm over regions in key order, producing at least <paramref name="baseSpans"/>
    /// spans (fewer only when there are fewer regions) unless the table is too cold.
    /// </summary>
    internal static WriteSplit SplitByWrittenKeys(TableId tableId, IReadOnlyList<Region> regions, int baseSpans, long writeKeyThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(regions.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(baseSpans);
        ulong totalWrite = 0;
        ulong totalWeight = 0;
        for (int index = 0; index < regions.Count; index++)
        {
            totalWrite += regions[index].WrittenKeys;
            totalWeight += Weight(regions[index]);
        }

        var result = new WriteSplitBuilder(tableId, regions, baseSpans);
        if (totalWrite < (ulong)writeKeyThreshold)
        {
            result.Close(0, regions.Count - 1, totalWeight);
            return result.Build();
        }

        ulong limit = totalWeight / (ulong)baseSpans;
        int restSpans = baseSpans;
        ulong restWeight = totalWeight;
        int spanStart = 0;
        ulong spanWeight = 0;
        for (int index = 0; index < regions.Count; index++)
        {
            int restRegions = regions.Count - index;
            spanWeight += Weight(regions[index]);
            if (restSpans == 1)
            {
                if (restWeight <= limit)
                {
                    result.Close(spanStart, regions.Count - 1, restWeight);
                    spanStart = regions.Count;
                    break;
                }

                // The last span would be too heavy: plan more. (limit is 0 only when there are
                // fewer weight units than spans, and then every region is closed on its own.)
                restSpans = limit == 0 ? restRegions : (int)Math.Min((restWeight / limit) + 1, int.MaxValue);
            }

            int regionCount = index - spanStart + 1;
            if (restRegions <= restSpans || spanWeight > limit || regionCount >= SpanSplitting.SpanRegionLimit)
            {
                result.Close(spanStart, index, spanWeight);
                restSpans--;
                restWeight -= spanWeight;
                spanWeight = 0;
                spanStart = index + 1;
            }
        }

        if (spanStart < regions.Count)
        {
            // Not reached by the rules above (TiCDC logs "should not appear"); keep every region covered.
            result.Close(spanStart, regions.Count - 1, restWeight);
        }

        return result.Build();
    }

    private static ulong Weight(Region region) => region.WrittenKeys + 1;

    /// <summary>Collects the spans of a split with their region counts and weights.</summary>
    private readonly struct WriteSplitBuilder(TableId tableId, IReadOnlyList<Region> regions, int capacity)
    {
        private readonly List<int> _regionCounts = new(capacity);
        private readonly List<ulong> _weights = new(capacity);
        private readonly List<Span> _spans = new(capacity);

        public void Close(int first, int last, ulong weight)
        {
            _regionCounts.Add(last - first + 1);
            _weights.Add(weight);
            _spans.Add(new Span(tableId, regions[first].StartKey, regions[last].EndKey));
        }

        public WriteSplit Build() => new([.. _regionCounts], [.. _weights], [.. _spans]);
    }
}

/// <summary>A write-key split: spans in key order with each one's region count and weight.</summary>
/// <param name="RegionCounts">Regions per span.</param>
/// <param name="Weights">Weight (written keys + 1 per region) per span.</param>
/// <param name="Spans">The spans.</param>
internal sealed record WriteSplit(int[] RegionCounts, ulong[] Weights, Span[] Spans);
