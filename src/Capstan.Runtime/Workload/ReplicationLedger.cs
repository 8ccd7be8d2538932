namespace Capstan.Runtime.Workload;

using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>Who sank a range: one executor incarnation (a capture's agent in one processor epoch).</summary>
/// <param name="Capture">The capture.</param>
/// <param name="Epoch">Its processor epoch (the incarnation).</param>
public readonly record struct SinkWriter(CaptureId Capture, ProcessorEpoch Epoch)
{
    /// <inheritdoc/>
    public override string ToString() => Epoch.IsNone ? Capture.ToString() : $"{Capture}#{Epoch}";
}

/// <summary>A ts range (From, To] of one span that one writer applied to the downstream.</summary>
/// <param name="Writer">Who applied it.</param>
/// <param name="From">Exclusive lower bound: the sink checkpoint before.</param>
/// <param name="To">Inclusive upper bound: the sink checkpoint after.</param>
/// <param name="Events">Change events in the range (per the <see cref="TableWorkload"/>).</param>
public readonly record struct AppliedRange(SinkWriter Writer, Ts From, Ts To, long Events);

/// <summary>
/// The simulated downstream's record of what was applied: for every (changefeed, span), the ts
/// ranges each executor incarnation sank, and which incarnations abandoned the span without handing
/// it over (killed or self-fenced while holding it). Shared by every
/// <see cref="SimulatedTableExecutor"/> of a cluster; thread-safe. <see cref="GapChecker"/> proves
/// from it that no ts range was skipped and none was applied twice except as an allowed replay
/// after a crash.
/// </summary>
public sealed class ReplicationLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(ChangefeedId Changefeed, Span Span), LedgerSpan> _spans = [];
    private readonly Action<ChangefeedId, Span, AppliedRange>? _applied;

    /// <summary>Creates an empty ledger.</summary>
    public ReplicationLedger()
    {
    }

    /// <summary>
    /// Creates an empty ledger that reports every recorded range, as it was applied (before merging),
    /// to <paramref name="applied"/>, after the ledger's lock is released. A simulator uses it to
    /// follow coverage incrementally instead of re-reading every span.
    /// </summary>
    public ReplicationLedger(Action<ChangefeedId, Span, AppliedRange> applied)
    {
        _applied = applied ?? throw new ArgumentNullException(nameof(applied));
    }

    /// <summary>Ranges recorded so far (after merging contiguous pieces of one writer).</summary>
    public int RangeCount
    {
        get
        {
            lock (_gate)
            {
                int count = 0;
                foreach (var record in _spans.Values)
                {
                    count += record.RangeCount;
                }

                return count;
            }
        }
    }

    /// <summary>
    /// Records that <paramref name="writer"/> applied (from, to] of a span. A range that continues
    /// the writer's previous range of the span is merged into it.
    /// </summary>
    public void RecordApplied(ChangefeedId changefeed, Span span, SinkWriter writer, Ts from, Ts to, long events)
    {
        if (to <= from)
        {
            throw new ArgumentException($"empty or inverted range ({from}, {to}] for {span} by {writer}");
        }

        lock (_gate)
        {
            GetOrAdd(changefeed, span).Record(writer, from, to, events);
        }

        _applied?.Invoke(changefeed, span, new AppliedRange(writer, from, to, events));
    }

    /// <summary>
    /// The record of one (changefeed, span), created empty when missing: a handle a writer keeps to
    /// record its ranges with <see cref="RecordApplied(LedgerSpan, SinkWriter, Ts, Ts, long)"/>
    /// without looking the span up again.
    /// </summary>
    public LedgerSpan Track(ChangefeedId changefeed, Span span)
    {
        lock (_gate)
        {
            return GetOrAdd(changefeed, span);
        }
    }

    /// <summary>
    /// Records that <paramref name="writer"/> applied (from, to] of the tracked span, exactly as
    /// <see cref="RecordApplied(ChangefeedId, Span, SinkWriter, Ts, Ts, long)"/> does.
    /// </summary>
    /// <exception cref="ArgumentException">The range is empty, or the handle belongs to another ledger.</exception>
    public void RecordApplied(LedgerSpan tracked, SinkWriter writer, Ts from, Ts to, long events)
    {
        ArgumentNullException.ThrowIfNull(tracked);
        if (to <= from)
        {
            throw new ArgumentException($"empty or inverted range ({from}, {to}] for {tracked.Span} by {writer}");
        }

        if (!ReferenceEquals(tracked.Ledger, this))
        {
            throw new ArgumentException($"{tracked.Span} is tracked by another ledger", nameof(tracked));
        }

        lock (_gate)
        {
            tracked.Record(writer, from, to, events);
        }

        _applied?.Invoke(tracked.Changefeed, tracked.Span, new AppliedRange(writer, from, to, events));
    }

    /// <summary>
    /// Records a batch of ranges under one acquisition of the ledger's lock (what a simulated
    /// executor sank in one tick), each exactly as
    /// <see cref="RecordApplied(LedgerSpan, SinkWriter, Ts, Ts, long)"/> would.
    /// </summary>
    /// <exception cref="ArgumentException">A range is empty, or a handle belongs to another ledger (nothing is recorded then).</exception>
    public void RecordApplied(IReadOnlyList<TrackedRange> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        for (int i = 0; i < batch.Count; i++)
        {
            var (tracked, range) = batch[i];
            if (range.To <= range.From || !ReferenceEquals(tracked.Ledger, this))
            {
                throw new ArgumentException($"range ({range.From}, {range.To}] of {tracked.Span} by {range.Writer} is empty or for another ledger", nameof(batch));
            }
        }

        lock (_gate)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                var (tracked, range) = batch[i];
                tracked.Record(range.Writer, range.From, range.To, range.Events);
            }
        }

        if (_applied is { } applied)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                applied(batch[i].Span.Changefeed, batch[i].Span.Span, batch[i].Range);
            }
        }
    }

    /// <summary>
    /// Records that <paramref name="writer"/> stopped holding the span without a clean hand-over (it
    /// was killed or fenced): a successor may legitimately re-apply what it sank after the last
    /// checkpoint it reported.
    /// </summary>
    public void RecordAbandoned(ChangefeedId changefeed, Span span, SinkWriter writer)
    {
        lock (_gate)
        {
            GetOrAdd(changefeed, span).Abandoned.Add(writer);
        }
    }

    /// <summary>A copy of one span's record: its ranges in recording order and its abandoning writers.</summary>
    public (IReadOnlyList<AppliedRange> Ranges, IReadOnlySet<SinkWriter> Abandoned) Get(ChangefeedId changefeed, Span span)
    {
        lock (_gate)
        {
            return _spans.TryGetValue((changefeed, span), out var record)
                ? (record.CopyRanges(), new HashSet<SinkWriter>(record.Abandoned))
                : ([], new HashSet<SinkWriter>());
        }
    }

    /// <summary>The spans of a changefeed that have a record, in span order.</summary>
    public IReadOnlyList<Span> Spans(ChangefeedId changefeed)
    {
        lock (_gate)
        {
            List<Span> spans = [];
            foreach (var key in _spans.Keys)
            {
                if (key.Changefeed == changefeed)
                {
                    spans.Add(key.Span);
                }
            }

            spans.Sort();
            return spans;
        }
    }

    private LedgerSpan GetOrAdd(ChangefeedId changefeed, Span span)
    {
        if (!_spans.TryGetValue((changefeed, span), out var record))
        {
            record = new LedgerSpan(this, changefeed, span);
            _spans.Add((changefeed, span), record);
        }

        return record;
    }
}

/// <summary>
/// One (changefeed, span) of a <see cref="ReplicationLedger"/>: a handle from
/// <see cref="ReplicationLedger.Track"/>; its contents are read through the ledger.
/// </summary>
public sealed class LedgerSpan
{
    private readonly List<AppliedRange> _closed = [];
    private AppliedRange _open;
    private bool _hasOpen;

    internal LedgerSpan(ReplicationLedger ledger, ChangefeedId changefeed, Span span)
    {
        Ledger = ledger;
        Changefeed = changefeed;
        Span = span;
    }

    /// <summary>The changefeed.</summary>
    public ChangefeedId Changefeed { get; }

    /// <summary>The span.</summary>
    public Span Span { get; }

    internal ReplicationLedger Ledger { get; }

    internal HashSet<SinkWriter> Abandoned { get; } = [];

    internal int RangeCount => _closed.Count + (_hasOpen ? 1 : 0);

    internal List<AppliedRange> CopyRanges()
    {
        var ranges = new List<AppliedRange>(RangeCount);
        ranges.AddRange(_closed);
        if (_hasOpen)
        {
            ranges.Add(_open);
        }

        return ranges;
    }

    /// <summary>
    /// Adds (from, to] by the writer to the ranges (in recording order: the closed list, then the
    /// open range). A range that continues one of the last four of the same writer is merged into
    /// it; the usual case, a sink continuing its own last range, only touches the open range.
    /// Called under the ledger's lock.
    /// </summary>
    internal void Record(SinkWriter writer, Ts from, Ts to, long events)
    {
        if (_hasOpen && _open.To == from && _open.Writer == writer)
        {
            _open = _open with { To = to, Events = _open.Events + events };
            return;
        }

        int last = _closed.Count - 1;
        int depth = _hasOpen ? 3 : 4;
        for (int i = last; i >= 0 && i > last - depth; i--)
        {
            if (_closed[i].Writer == writer && _closed[i].To == from)
            {
                _closed[i] = _closed[i] with { To = to, Events = _closed[i].Events + events };
                return;
            }
        }

        if (_hasOpen)
        {
            _closed.Add(_open);
        }

        _open = new AppliedRange(writer, from, to, events);
        _hasOpen = true;
    }
}

/// <summary>One range of a batch for <see cref="ReplicationLedger.RecordApplied(IReadOnlyList{TrackedRange})"/>.</summary>
/// <param name="Span">The tracked span.</param>
/// <param name="Range">What was applied.</param>
public readonly record struct TrackedRange(LedgerSpan Span, AppliedRange Range);
