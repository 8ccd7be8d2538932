namespace Capstan.Runtime.Workload;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Capstan.Runtime.Hosting;

/// <summary>Settings of the simulated processor pipeline.</summary>
public sealed record SimulatedExecutorOptions
{
    /// <summary>How long a span stays Preparing (its incremental scan) before it is Prepared (0..3,600,000 ms).</summary>
    public long PrepareMilliseconds { get; init; } = 300;

    /// <summary>Extra per-table prepare time, 0..this many ms, drawn from the workload seed (0..3,600,000).</summary>
    public long PrepareJitterMilliseconds { get; init; }

    /// <summary>How long a span stays Stopping (its sink closing) before it is Stopped (0..3,600,000 ms).</summary>
    public long StopMilliseconds { get; init; } = 100;

    /// <summary>How far a span's resolved ts trails upstream time (0..3,600,000 ms).</summary>
    public long ResolvedLagMilliseconds { get; init; }

    /// <summary>When true (default), a sink never passes the global barrier of the owner's last heartbeat.</summary>
    public bool RespectBarrier { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public SimulatedExecutorOptions Validate()
    {
        Check(PrepareMilliseconds, nameof(PrepareMilliseconds));
        Check(PrepareJitterMilliseconds, nameof(PrepareJitterMilliseconds));
        Check(StopMilliseconds, nameof(StopMilliseconds));
        Check(ResolvedLagMilliseconds, nameof(ResolvedLagMilliseconds));
        return this;
    }

    private static void Check(long value, string name)
    {
        if (value is < 0 or > 3_600_000)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in 0..3600000");
        }
    }
}

/// <summary>What one simulated span looks like from outside (for snapshots and tests).</summary>
/// <param name="Span">The span.</param>
/// <param name="State">Its pipeline state.</param>
/// <param name="PullerStartTs">Where its puller started (the prepare checkpoint).</param>
/// <param name="SinkCheckpointTs">Everything up to here has been applied downstream (by this executor or its predecessors).</param>
/// <param name="ResolvedTs">Everything up to here has been pulled.</param>
/// <param name="EventsApplied">Change events this executor applied for the span.</param>
public readonly record struct SimulatedSpanView(Span Span, TableState State, Ts PullerStartTs, Ts SinkCheckpointTs, Ts ResolvedTs, long EventsApplied);

/// <summary>
/// A simulated processor for one changefeed on one capture, following the table-executor contract
/// of spec §5.9 exactly. Time moves only in <see cref="Advance"/>, which the agent host calls once
/// per tick before the agent's tick; every sink advance is recorded in the shared
/// <see cref="ReplicationLedger"/>.
/// <code>
/// Absent ──AddTableSpan──▶ Preparing ──PrepareMilliseconds──▶ Prepared ──AddTableSpan(isPrepare: false)──▶ Replicating
///   (puller starts at the checkpoint)                                   (sink starts at that call's checkpoint)
/// Preparing / Prepared / Replicating ──RemoveTableSpan──▶ Stopping ──StopMilliseconds──▶ Stopped
/// Stopped ──IsRemoveTableSpanFinished──▶ Absent (returns the final sink checkpoint, forgets the span)
/// </code>
/// While Replicating, each <see cref="Advance"/> moves the resolved ts to upstream time (minus the
/// configured lag) and the sink checkpoint to min(resolved ts, global barrier), applying the change
/// events in between. A Stopping span's sink is frozen: its final checkpoint is the one it reported
/// when the stop began. Not thread-safe: one agent host drives it.
/// </summary>
public sealed class SimulatedTableExecutor : IHostedTableExecutor
{
    private readonly ChangefeedId _changefeed;
    private readonly UpstreamClock _clock;
    private readonly ReplicationLedger _ledger;
    private readonly TableWorkload _workload;
    private readonly SimulatedExecutorOptions _options;
    private readonly Dictionary<Span, SimulatedSpan> _spans = new(SpanKeyComparer.Instance);
    private readonly List<SimulatedSpan> _ordered = [];
    private readonly List<TrackedRange> _sunk = [];
    private readonly int[] _counts = new int[(int)TableState.Stopped + 1];
    private int _cursor;
    private Ts _globalBarrierTs;
    private bool _stopped;

    /// <summary>Creates an empty executor.</summary>
    /// <param name="writer">The capture and processor epoch this executor runs as (the ledger's writer).</param>
    /// <param name="changefeed">The changefeed.</param>
    /// <param name="clock">Upstream time.</param>
    /// <param name="ledger">The shared record of what was applied downstream.</param>
    /// <param name="workload">The tables' write rates.</param>
    /// <param name="options">Timings.</param>
    public SimulatedTableExecutor(
        SinkWriter writer, ChangefeedId changefeed, UpstreamClock clock, ReplicationLedger ledger, TableWorkload workload,
        SimulatedExecutorOptions? options = null)
    {
        Writer = writer;
        _changefeed = changefeed;
        _clock = clock;
        _ledger = ledger;
        _workload = workload;
        _options = (options ?? new SimulatedExecutorOptions()).Validate();
    }

    /// <summary>The capture and incarnation this executor sinks as.</summary>
    public SinkWriter Writer { get; }

    /// <summary>Spans present (any state but Absent).</summary>
    public int SpanCount => _spans.Count;

    /// <summary>True after <see cref="StopAll"/>: the executor holds nothing and accepts nothing.</summary>
    public bool IsStopped => _stopped;

    /// <summary>Change events this executor applied, over all spans.</summary>
    public long EventsApplied { get; private set; }

    /// <summary>Sink starts refused because the commit checkpoint was below the puller start (must stay 0).</summary>
    public long ContractViolations { get; private set; }

    /// <summary>The global barrier the sinks respect (0: none received yet).</summary>
    public Ts GlobalBarrierTs => _globalBarrierTs;

    /// <summary>Counts of spans per state, indexed by <see cref="TableState"/> (length 7).</summary>
    /// <remarks>Kept up to date on every state change: O(1), one small array per call.</remarks>
    public int[] CountByState() => (int[])_counts.Clone();

    /// <summary>Looks at one span; false when Absent.</summary>
    public bool TryGetSpan(Span span, out SimulatedSpanView view)
    {
        if (_spans.TryGetValue(span, out var state))
        {
            view = state.View;
            return true;
        }

        view = default;
        return false;
    }

    /// <summary>Every present span, in span order.</summary>
    public IReadOnlyList<SimulatedSpanView> Spans()
    {
        var views = new List<SimulatedSpanView>(_spans.Count);
        foreach (var span in _spans.Values)
        {
            views.Add(span.View);
        }

        views.Sort(static (a, b) => a.Span.CompareTo(b.Span));
        return views;
    }

    /// <summary>
    /// Appends every span that is Replicating (its sink running) to <paramref name="into"/>, in no
    /// particular order; allocation-free when the list has room. A simulator checks with it, every
    /// tick, that no span is sunk by two executors at once.
    /// </summary>
    public void CollectReplicating(List<Span> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        foreach (var span in _spans.Values)
        {
            if (span.State == TableState.Replicating)
            {
                into.Add(span.Span);
            }
        }
    }

    /// <summary>Applies the barrier an agent tick returned (ignored when null or its global barrier is 0).</summary>
    public void ApplyBarrier(Barrier? barrier)
    {
        if (barrier is { GlobalBarrierTs.Value: > 0 } && barrier.GlobalBarrierTs > _globalBarrierTs)
        {
            _globalBarrierTs = barrier.GlobalBarrierTs;
        }
    }

    /// <summary>Moves every span along with upstream time: scans finish, sinks apply events, stops complete.</summary>
    public void Advance()
    {
        if (_stopped)
        {
            return;
        }

        long now = _clock.NowMilliseconds;
        var resolved = Ts.FromPhysical(Math.Max(0, now - _options.ResolvedLagMilliseconds));
        foreach (var span in _spans.Values)
        {
            switch (span.State)
            {
                case TableState.Preparing when now >= span.ReadyAtMilliseconds:
                    MoveTo(span, TableState.Prepared);
                    span.Resolved = Ts.MaxOf(span.Resolved, resolved);
                    break;
                case TableState.Prepared:
                    span.Resolved = Ts.MaxOf(span.Resolved, resolved);
                    break;
                case TableState.Replicating:
                    span.Resolved = Ts.MaxOf(span.Resolved, resolved);
                    Sink(span);
                    break;
                case TableState.Stopping when now >= span.ReadyAtMilliseconds:
                    MoveTo(span, TableState.Stopped);
                    break;
            }
        }

        if (_sunk.Count > 0)
        {
            _ledger.RecordApplied(_sunk);
            _sunk.Clear();
        }
    }

    /// <summary>
    /// Stops everything at once, as a killed or self-fenced process does: no span is handed over,
    /// so every span whose sink ran is recorded as abandoned (its successor may replay the tail
    /// after the last checkpoint the owner heard of). The executor accepts nothing afterwards.
    /// </summary>
    public void StopAll()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        foreach (var span in _spans.Values)
        {
            if (span.SinkStarted)
            {
                _ledger.RecordAbandoned(_changefeed, span.Span, Writer);
            }
        }

        _spans.Clear();
        _ordered.Clear();
        Array.Clear(_counts);
    }

    /// <inheritdoc/>
    public bool AddTableSpan(Span span, Checkpoint checkpoint, bool isPrepare)
    {
        if (_stopped)
        {
            return false;
        }

        if (checkpoint.CheckpointTs.Value == 0)
        {
            throw new TableExecutorException(span, "start ts must not be 0");
        }

        if (_spans.TryGetValue(span, out var existing))
        {
            switch (existing.State)
            {
                case TableState.Preparing:
                case TableState.Replicating:
                    return true;
                case TableState.Prepared:
                    if (!isPrepare)
                    {
                        StartSink(existing, checkpoint.CheckpointTs);
                    }

                    return true;
                case TableState.Stopping:
                    return false;
                default:
                    Forget(existing);
                    break;
            }
        }

        long prepare = _options.PrepareMilliseconds + Jitter(span.TableId);
        var created = new SimulatedSpan(span, checkpoint.CheckpointTs, _clock.NowMilliseconds + prepare, _workload.EventsPerSecond(span.TableId));
        _spans.Add(span, created);
        InsertOrdered(created);
        _counts[(int)TableState.Preparing]++;
        if (prepare == 0)
        {
            MoveTo(created, TableState.Prepared);
        }

        return true;
    }

    /// <inheritdoc/>
    public bool IsAddTableSpanFinished(Span span, bool isPrepare)
    {
        if (_stopped)
        {
            return false;
        }

        if (Find(span) is not { } existing)
        {
            throw new TableExecutorException(span, "is-add-finished asked for a span that does not exist");
        }

        return existing.State == (isPrepare ? TableState.Prepared : TableState.Replicating);
    }

    /// <inheritdoc/>
    public bool RemoveTableSpan(Span span)
    {
        if (_stopped)
        {
            return false;
        }

        if (!_spans.TryGetValue(span, out var existing))
        {
            return true;
        }

        if (existing.State is TableState.Preparing or TableState.Prepared or TableState.Replicating)
        {
            MoveTo(existing, TableState.Stopping);
            existing.ReadyAtMilliseconds = _clock.NowMilliseconds + _options.StopMilliseconds;
            if (_options.StopMilliseconds == 0)
            {
                MoveTo(existing, TableState.Stopped);
            }
        }

        return existing.State == TableState.Stopped;
    }

    /// <inheritdoc/>
    public bool IsRemoveTableSpanFinished(Span span, out Ts checkpointTs)
    {
        checkpointTs = Ts.Zero;
        if (_stopped)
        {
            return false;
        }

        if (!_spans.TryGetValue(span, out var existing))
        {
            return true;
        }

        if (existing.State != TableState.Stopped)
        {
            return false;
        }

        checkpointTs = existing.SinkCheckpoint;
        Forget(existing);
        return true;
    }

    /// <inheritdoc/>
    public TableStatus GetTableSpanStatus(Span span, bool collectStats)
    {
        if (Find(span) is not { } existing)
        {
            return new TableStatus(span, TableState.Absent, default);
        }

        var checkpoint = new Checkpoint(existing.SinkCheckpoint, existing.Resolved, existing.LastSynced);
        return new TableStatus(span, existing.State, checkpoint, collectStats ? StatsOf(existing, checkpoint) : null);
    }

    private long Jitter(TableId table) =>
        _options.PrepareJitterMilliseconds == 0 ? 0 : (long)(_workload.TableHash(table, 1) % (ulong)(_options.PrepareJitterMilliseconds + 1));

    private void StartSink(SimulatedSpan span, Ts checkpointTs)
    {
        if (checkpointTs < span.PullerStart)
        {
            // The puller has nothing below its start: sinking from here would skip events silently.
            ContractViolations++;
            throw new TableExecutorException(span.Span, $"sink start {checkpointTs} is below the puller start {span.PullerStart}");
        }

        span.SinkCheckpoint = checkpointTs;
        span.Resolved = Ts.MaxOf(span.Resolved, checkpointTs);
        MoveTo(span, TableState.Replicating);
        span.SinkStarted = true;
        span.Ledger ??= _ledger.Track(_changefeed, span.Span);
    }

    private void MoveTo(SimulatedSpan span, TableState state)
    {
        _counts[(int)span.State]--;
        _counts[(int)state]++;
        span.State = state;
    }

    private void Forget(SimulatedSpan span)
    {
        _counts[(int)span.State]--;
        _spans.Remove(span.Span);
        int index = OrderedIndexOf(span.Span);
        _ordered.RemoveAt(index);
    }

    /// <summary>
    /// The span's pipeline, or null. An agent asks for its spans in span order (a heartbeat lists
    /// them all), so the entry after the previous answer is tried first: a sequential walk instead
    /// of a hash lookup per span. Anything else falls back to the dictionary and re-positions.
    /// </summary>
    private SimulatedSpan? Find(Span span)
    {
        int count = _ordered.Count;
        int next = _cursor + 1;
        if (next < count && _ordered[next].Span.Equals(span))
        {
            _cursor = next;
            return _ordered[next];
        }

        if (count > 0 && _ordered[0].Span.Equals(span))
        {
            _cursor = 0;
            return _ordered[0];
        }

        if (!_spans.TryGetValue(span, out var found))
        {
            return null;
        }

        _cursor = OrderedIndexOf(span);
        return found;
    }

    private void InsertOrdered(SimulatedSpan span)
    {
        int count = _ordered.Count;
        if (count == 0 || _ordered[count - 1].Span.CompareTo(span.Span) < 0)
        {
            _ordered.Add(span); // tables are usually added in order
            return;
        }

        _ordered.Insert(~OrderedIndexOf(span.Span), span);
    }

    /// <summary>Binary search in the ordered list: the index, or the complement of the insertion point.</summary>
    private int OrderedIndexOf(Span span)
    {
        int low = 0;
        int high = _ordered.Count - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            int order = _ordered[middle].Span.CompareTo(span);
            if (order == 0)
            {
                return middle;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return ~low;
    }

    private void Sink(SimulatedSpan span)
    {
        var target = span.Resolved;
        if (_options.RespectBarrier && _globalBarrierTs.Value != 0)
        {
            target = Ts.MinOf(target, _globalBarrierTs);
        }

        if (target <= span.SinkCheckpoint)
        {
            return;
        }

        long events = TableWorkload.EventsBetween(span.EventsPerSecond, span.SinkCheckpoint, target);
        _sunk.Add(new TrackedRange(span.Ledger!, new AppliedRange(Writer, span.SinkCheckpoint, target, events)));
        span.SinkCheckpoint = target;
        span.EventsApplied += events;
        EventsApplied += events;
        if (events > 0)
        {
            span.LastSynced = target;
        }
    }

    private Stats StatsOf(SimulatedSpan span, Checkpoint sink)
    {
        var puller = new Checkpoint(span.PullerStart, span.Resolved, Ts.Zero);
        return new Stats
        {
            RegionCount = 1 + (_workload.TableHash(span.Span.TableId, 2) % 16),
            BarrierTs = _globalBarrierTs,
            WriteKeysPerSecond = (ulong)span.EventsPerSecond,
            StageCheckpoints = new Dictionary<string, Checkpoint>
            {
                [StageNames.PullerIngress] = puller,
                [StageNames.PullerEgress] = puller,
                [StageNames.SorterIngress] = new(span.Resolved, span.Resolved, Ts.Zero),
                [StageNames.SorterEgress] = new(sink.ResolvedTs, sink.ResolvedTs, Ts.Zero),
                [StageNames.Sink] = sink,
            },
        };
    }

    /// <summary>One span's pipeline.</summary>
    private sealed class SimulatedSpan(Span span, Ts startTs, long readyAtMilliseconds, long eventsPerSecond)
    {
        public Span Span { get; } = span;

        /// <summary>Changed only through the executor's MoveTo (which keeps the per-state counts).</summary>
        public TableState State { get; set; } = TableState.Preparing;

        /// <summary>The table's write rate (kept: the sink needs it every tick).</summary>
        public long EventsPerSecond { get; } = eventsPerSecond;

        /// <summary>This span's ledger record, from the first sink start on.</summary>
        public LedgerSpan? Ledger { get; set; }

        public Ts PullerStart { get; } = startTs;

        public Ts SinkCheckpoint { get; set; } = startTs;

        public Ts Resolved { get; set; } = startTs;

        public Ts LastSynced { get; set; }

        /// <summary>When the current Preparing or Stopping phase ends (upstream ms).</summary>
        public long ReadyAtMilliseconds { get; set; } = readyAtMilliseconds;

        public bool SinkStarted { get; set; }

        public long EventsApplied { get; set; }

        public SimulatedSpanView View => new(Span, State, PullerStart, SinkCheckpoint, Resolved, EventsApplied);
    }
}
