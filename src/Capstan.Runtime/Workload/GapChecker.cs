namespace Capstan.Runtime.Workload;

using System.Globalization;
using System.Text;
using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>A ts range (From, To] of a span that no writer applied although the changefeed checkpoint passed it.</summary>
/// <param name="Span">The span.</param>
/// <param name="From">Exclusive lower bound.</param>
/// <param name="To">Inclusive upper bound.</param>
public readonly record struct Gap(Span Span, Ts From, Ts To);

/// <summary>A ts range (From, To] of a span that two writers (or one writer twice) applied.</summary>
/// <param name="Span">The span.</param>
/// <param name="From">Exclusive lower bound.</param>
/// <param name="To">Inclusive upper bound.</param>
/// <param name="Earlier">The writer whose range reached further first.</param>
/// <param name="Later">The writer that applied the range again.</param>
/// <param name="IsReplayAfterCrash">
/// True when <paramref name="Earlier"/> abandoned the span (it was killed or fenced): its successor
/// restarts from the last checkpoint the owner heard of, so re-applying that tail is the expected
/// at-least-once replay. False is a double sink, which a clean two-phase move must never cause.
/// </param>
/// <param name="Events">Change events in the overlapping range.</param>
public readonly record struct Overlap(Span Span, Ts From, Ts To, SinkWriter Earlier, SinkWriter Later, bool IsReplayAfterCrash, long Events);

/// <summary>The result of a <see cref="GapChecker"/> run.</summary>
public sealed record GapReport
{
    /// <summary>Spans examined.</summary>
    public int SpansChecked { get; init; }

    /// <summary>Where coverage had to start.</summary>
    public Ts StartTs { get; init; }

    /// <summary>Where coverage had to reach (the changefeed checkpoint).</summary>
    public Ts CheckpointTs { get; init; }

    /// <summary>Uncovered ranges below the checkpoint; must be empty.</summary>
    public IReadOnlyList<Gap> Gaps { get; init; } = [];

    /// <summary>Ranges applied more than once (replays after crashes and double sinks).</summary>
    public IReadOnlyList<Overlap> Overlaps { get; init; } = [];

    /// <summary>
    /// Change events with commit ts in (StartTs, CheckpointTs] applied by all writers together, replays
    /// included (needs a workload). Equals <see cref="EventsExpected"/> plus the replays below the
    /// checkpoint when there is no gap and no double sink.
    /// </summary>
    public long EventsApplied { get; init; }

    /// <summary>Change events in (StartTs, CheckpointTs] over all checked spans: what had to be applied at least.</summary>
    public long EventsExpected { get; init; }

    /// <summary>Overlaps that are not a replay after a crash; must be 0.</summary>
    public int DoubleSinkCount
    {
        get
        {
            int count = 0;
            foreach (var overlap in Overlaps)
            {
                count += overlap.IsReplayAfterCrash ? 0 : 1;
            }

            return count;
        }
    }

    /// <summary>Change events re-applied by successors of crashed writers.</summary>
    public long EventsReplayed
    {
        get
        {
            long events = 0;
            foreach (var overlap in Overlaps)
            {
                events += overlap.IsReplayAfterCrash ? overlap.Events : 0;
            }

            return events;
        }
    }

    /// <summary>No gap and no double sink.</summary>
    public bool Passed => Gaps.Count == 0 && DoubleSinkCount == 0;

    /// <summary>A one-line summary, followed by up to <paramref name="maxDetails"/> gaps and double sinks.</summary>
    public string Describe(int maxDetails = 5)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{(Passed ? "PASS" : "FAIL")}: {SpansChecked} spans covered from ts {StartTs} to checkpoint {CheckpointTs}; ");
        text.Append(CultureInfo.InvariantCulture,
            $"{Gaps.Count} gaps, {DoubleSinkCount} double sinks, {Overlaps.Count - DoubleSinkCount} replays after crashes ({EventsReplayed} events); ");
        text.Append(CultureInfo.InvariantCulture, $"{EventsExpected} change events up to the checkpoint, {EventsApplied} applied");
        int shown = 0;
        foreach (var gap in Gaps)
        {
            if (shown++ >= maxDetails)
            {
                break;
            }

            text.Append(CultureInfo.InvariantCulture, $"\n  gap {gap.Span}: ({gap.From}, {gap.To}]");
        }

        foreach (var overlap in Overlaps)
        {
            if (!overlap.IsReplayAfterCrash && shown++ < maxDetails)
            {
                text.Append(CultureInfo.InvariantCulture,
                    $"\n  double sink {overlap.Span}: ({overlap.From}, {overlap.To}] by {overlap.Earlier} and {overlap.Later}");
            }
        }

        return text.ToString();
    }
}

/// <summary>
/// Proves from a <see cref="ReplicationLedger"/> that replication had no gap: for every span, the
/// ranges applied by all writers together cover (start ts, changefeed checkpoint] without a hole;
/// and reports every range applied twice, telling the expected replays after a crash from double
/// sinks (which a two-phase move must never produce: the target's sink starts exactly at the
/// source's final checkpoint).
/// </summary>
public static class GapChecker
{
    /// <summary>Checks the given spans of a changefeed.</summary>
    /// <param name="ledger">What was applied.</param>
    /// <param name="changefeed">The changefeed.</param>
    /// <param name="spans">The spans that had to be replicated (e.g. the whole-table spans of its tables).</param>
    /// <param name="startTs">The changefeed's start ts: coverage starts after it.</param>
    /// <param name="checkpointTs">The changefeed checkpoint: coverage must reach it.</param>
    /// <param name="workload">When given, event counts are filled in.</param>
    public static GapReport Check(
        ReplicationLedger ledger, ChangefeedId changefeed, IEnumerable<Span> spans, Ts startTs, Ts checkpointTs, TableWorkload? workload = null)
    {
        List<Gap> gaps = [];
        List<Overlap> overlaps = [];
        int checkedSpans = 0;
        long applied = 0;
        long expected = 0;
        foreach (var span in spans)
        {
            checkedSpans++;
            var (ranges, abandoned) = ledger.Get(changefeed, span);
            applied += CheckSpan(span, ranges, abandoned, startTs, checkpointTs, workload, gaps, overlaps);
            expected += workload?.EventsBetween(span.TableId, startTs, checkpointTs) ?? 0;
        }

        return new GapReport
        {
            SpansChecked = checkedSpans,
            StartTs = startTs,
            CheckpointTs = checkpointTs,
            Gaps = gaps,
            Overlaps = overlaps,
            EventsApplied = applied,
            EventsExpected = expected,
        };
    }

    /// <summary>Checks the whole-table spans of <paramref name="tables"/>.</summary>
    public static GapReport CheckTables(
        ReplicationLedger ledger, ChangefeedId changefeed, IEnumerable<TableId> tables, Ts startTs, Ts checkpointTs, TableWorkload? workload = null)
    {
        List<Span> spans = [];
        foreach (var table in tables)
        {
            spans.Add(TableSpans.WholeTable(table));
        }

        return Check(ledger, changefeed, spans, startTs, checkpointTs, workload);
    }

    private static long CheckSpan(
        Span span, IReadOnlyList<AppliedRange> recorded, IReadOnlySet<SinkWriter> abandoned, Ts startTs, Ts checkpointTs,
        TableWorkload? workload, List<Gap> gaps, List<Overlap> overlaps)
    {
        var ranges = new List<AppliedRange>(recorded);
        ranges.Sort(static (a, b) => a.From != b.From ? a.From.CompareTo(b.From) : a.To.CompareTo(b.To));
        Ts covered = startTs;
        Ts frontier = Ts.Zero;
        SinkWriter frontierWriter = default;
        long applied = 0;
        foreach (var range in ranges)
        {
            applied += workload is null
                ? range.Events
                : workload.EventsBetween(span.TableId, Ts.MaxOf(range.From, startTs), Ts.MinOf(range.To, checkpointTs));
            if (range.From > covered && covered < checkpointTs)
            {
                gaps.Add(new Gap(span, covered, Ts.MinOf(range.From, checkpointTs)));
            }

            if (range.From < frontier)
            {
                var to = Ts.MinOf(range.To, frontier);
                long events = workload?.EventsBetween(span.TableId, range.From, to) ?? 0;
                bool replay = frontierWriter != range.Writer && abandoned.Contains(frontierWriter);
                overlaps.Add(new Overlap(span, range.From, to, frontierWriter, range.Writer, replay, events));
            }

            covered = Ts.MaxOf(covered, range.To);
            if (range.To > frontier)
            {
                frontier = range.To;
                frontierWriter = range.Writer;
            }
        }

        if (covered < checkpointTs)
        {
            gaps.Add(new Gap(span, covered, checkpointTs));
        }

        return applied;
    }
}
