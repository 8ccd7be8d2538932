namespace Capstan.Core.Coordination;

using Capstan.Core.Keyspan;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;

/// <summary>
/// The scheduler of one changefeed, run by the owner: a deterministic machine that, tick by tick,
/// reads agents' reports, keeps one replication set per span, plans add/move/remove tasks and
/// advances the changefeed checkpoint. Single-threaded: the host calls <see cref="Tick"/> and the
/// commands from one loop and sends the returned messages.
/// </summary>
/// <remarks>
/// Tick order (TiCDC's poll): filter inbound messages → capture manager reads heartbeat responses
/// (and notices restarted captures) → alive-capture update → replication sets read reports →
/// if some capture is not initialised yet: only advance the checkpoint and heartbeat → capture
/// changes (owner fail-over rebuild, removed captures) → reconcile spans → schedule → apply tasks
/// → advance the checkpoint → heartbeats. Outbox order: initial heartbeats, replies to reports,
/// capture-change messages, task messages, periodic heartbeats.
/// </remarks>
public sealed partial class Coordinator
{
    private const int HistoryCapacity = 4096;

    private readonly CoordinatorOptions _options;
    private readonly CaptureManager _captureManager;
    private readonly ReplicationManager _replicationManager;
    private readonly SchedulerManager _schedulerManager;
    private readonly Reconciler _reconciler;
    private readonly TableRanges _tableRanges = new();
    private readonly List<Message> _inbound = [];
    private readonly List<ScheduleTask> _tasks = [];

    /// <summary>The messages of the tick being run (reused: a tick that sends nothing allocates no list).</summary>
    private readonly List<Message> _outbox = [];

    /// <summary>The table list of the last tick; the same instance again is taken as unchanged (see <see cref="TickInput.CurrentTables"/>).</summary>
    private IReadOnlyList<TableId>? _lastTables;
    private long _tick;

    /// <summary>The largest checkpoint this coordinator has returned (zero before the first).</summary>
    private Ts _returnedCheckpoint;

    /// <summary>Creates a coordinator; it knows nothing until agents report.</summary>
    public Coordinator(CoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Config.Validate();
        _options = options;
        _captureManager = new CaptureManager(options.Self, options.OwnerRevision, options.Config);
        _replicationManager = new ReplicationManager(options.Config.MaxTaskConcurrency);
        _schedulerManager = new SchedulerManager(options.Self, options.Config, options.Random);
        _reconciler = new Reconciler(options.Config, options.RegionSource);
    }

    /// <summary>Creation options.</summary>
    public CoordinatorOptions Options => _options;

    /// <summary>Ticks run so far.</summary>
    public long TickCount => _tick;

    /// <summary>Counters of dropped messages and restarts.</summary>
    public CoordinatorCounters Counters { get; } = new();

    /// <summary>Accepted scheduling tasks, newest last.</summary>
    public SchedulingHistory History { get; } = new(HistoryCapacity);

    /// <summary>True when every known capture has answered a heartbeat (scheduling is possible).</summary>
    public bool IsInitialized => _captureManager.CheckAllCaptureInitialized();

    /// <summary>Known captures and their status.</summary>
    public IReadOnlyDictionary<CaptureId, CaptureStatus> Captures => _captureManager.Captures;

    /// <summary>The replication sets (read-only use).</summary>
    public SpanMap<ReplicationSet> ReplicationSets => _replicationManager.Spans;

    /// <summary>Running tasks per span (read-only use).</summary>
    public SpanMap<ScheduleTask> RunningTasks => _replicationManager.RunningTasks;

    /// <summary>The capture being drained, or None.</summary>
    public CaptureId DrainingTarget => _schedulerManager.DrainingTarget;

    /// <summary>Task counters per (scheduler, task kind).</summary>
    public IReadOnlyDictionary<(string Scheduler, string Task), long> SchedulerTaskCounts => _schedulerManager.TaskCounts;

    /// <summary>Accepted task counters per kind.</summary>
    public IReadOnlyDictionary<string, long> AcceptedTaskCounts => _replicationManager.AcceptedTaskCounts;

    /// <summary>The slowest span found by the last checkpoint computation.</summary>
    public Span? SlowestSink => _replicationManager.SlowestSink;

    /// <summary>Runs one tick. Never throws for bad input; an inconsistent replication set yields a failed result.</summary>
    public TickResult Tick(TickInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _tick++;
        var outbox = _outbox;
        outbox.Clear();
        try
        {
            var watermark = Poll(input, outbox);
            StampHeaders(outbox);
            if (watermark.CheckpointTs > _returnedCheckpoint && watermark.CheckpointTs != Ts.Max)
            {
                _returnedCheckpoint = watermark.CheckpointTs;
            }

            return new TickResult(watermark, outbox.Count == 0 ? [] : outbox.ToArray(), null);
        }
        catch (ReplicationSetInconsistentException error)
        {
            Counters.FailedTicks++;
            return new TickResult(Watermark.CannotProceed, [], error);
        }
        finally
        {
            outbox.Clear(); // keep no message beyond the tick
        }
    }

    private Watermark Poll(TickInput input, List<Message> outbox)
    {
        var checkpointTs = StartCheckpoint(input);
        FilterInbound(input.Inbox, _inbound);
        _captureManager.HandleMessages(_inbound);
        HandleRestartedCaptures(checkpointTs, outbox);
        _captureManager.HandleAliveCaptureUpdate(input.AliveCaptures, outbox);
        ForgetDrainOfDepartedTarget();
        KeepCurrentIncarnations(_inbound);
        _replicationManager.HandleMessages(_inbound, outbox);
        _inbound.Clear(); // keeps no agent report beyond its use (they can hold a status per span)
        UpdateTables(input.CurrentTables);

        if (!_captureManager.CheckAllCaptureInitialized())
        {
            var early = AdvanceCheckpoint(input);
            _captureManager.Tick(_replicationManager.Spans, _schedulerManager.DrainingTarget, input.Barrier, outbox);
            return early;
        }

        var changes = _captureManager.TakeChanges();
        if (changes is not null)
        {
            _replicationManager.HandleCaptureChanges(changes.Init, changes.Removed?.Keys.ToArray(), checkpointTs, outbox);
        }

        var currentSpans = _reconciler.Reconcile(input.CurrentTables, _replicationManager.Spans, _captureManager.Captures.Count);
        _tasks.Clear();
        _schedulerManager.Schedule(SchedulingContextFor(checkpointTs, currentSpans), _tasks);
        if (_tasks.Count > 0)
        {
            _replicationManager.HandleTasks(_tasks, outbox);
            RecordAccepted(_tasks);
        }
        else if (_replicationManager.RunningTasks.Count > 0)
        {
            // Reaps tasks that finished (TiCDC does this on every call, even with no new task).
            _replicationManager.HandleTasks(_tasks, outbox);
        }

        var watermark = AdvanceCheckpoint(input);
        _captureManager.Tick(_replicationManager.Spans, _schedulerManager.DrainingTarget, input.Barrier, outbox);
        return watermark;
    }

    /// <summary>
    /// Where new spans (and sets rebuilt from reports) start: the persisted checkpoint the host
    /// passes in, but never below a checkpoint this coordinator already returned. The host's value
    /// lags while its last write is in flight; a table added at that lagging value would pull the
    /// watermark back below a checkpoint the host may already have persisted (found by the
    /// simulator, seed 11 of the small profile). Starting a new table higher is safe: a table
    /// created after a checkpoint has no data at or below it.
    /// </summary>
    private Ts StartCheckpoint(TickInput input) => Ts.MaxOf(input.CheckpointTs, _returnedCheckpoint);

    /// <summary>Refreshes the table ranges unless the list is the last one (by reference, with the same count).</summary>
    private void UpdateTables(IReadOnlyList<TableId> tables)
    {
        if (!ReferenceEquals(tables, _lastTables) || tables.Count != _tableRanges.Count)
        {
            _tableRanges.UpdateTables(tables);
            _lastTables = tables;
        }
    }

    private Watermark AdvanceCheckpoint(TickInput input) =>
        _replicationManager.AdvanceCheckpoint(_tableRanges, input.Barrier.GlobalBarrierTs, input.MinTableBarrierTs);

    private SchedulingContext SchedulingContextFor(Ts checkpointTs, IReadOnlyList<Span> currentSpans) => new()
    {
        CheckpointTs = checkpointTs,
        CurrentSpans = currentSpans,
        Captures = _captureManager.Captures,
        ReplicationSets = _replicationManager.Spans,
        RunningTaskCount = _replicationManager.RunningTasks.Count,
        Tick = _tick,
        SetStateVersion = _replicationManager.SetStateVersion,
    };

    /// <summary>Keeps messages of this owner term, for this capture and changefeed epoch, well formed.</summary>
    private void FilterInbound(IReadOnlyList<Message> inbox, List<Message> kept)
    {
        kept.Clear();
        for (int index = 0; index < inbox.Count; index++)
        {
            var message = inbox[index];
            if (message is null || !message.IsWellFormed)
            {
                Counters.DroppedMalformed++;
            }
            else if (message.Header.OwnerRevision != _options.OwnerRevision)
            {
                Counters.DroppedStaleOwner++;
            }
            else if (message.To != _options.Self)
            {
                Counters.DroppedWrongTarget++;
            }
            else if (message.Header.ChangefeedEpoch != _options.ChangefeedEpoch)
            {
                Counters.DroppedChangefeedEpoch++;
            }
            else
            {
                kept.Add(message);
            }
        }
    }

    /// <summary>
    /// A capture that answers with a new processor epoch restarted under the same id: its former
    /// incarnation's spans are gone, so its roles are dropped as if it had been removed (the
    /// capture manager has already re-initialised it with the new epoch), and a drain of the
    /// former incarnation ends.
    /// </summary>
    private void HandleRestartedCaptures(Ts checkpointTs, List<Message> outbox)
    {
        var restarted = _captureManager.TakeRestarted();
        if (restarted.Count == 0)
        {
            return;
        }

        Counters.CaptureRestarts += restarted.Count;
        foreach (var capture in restarted)
        {
            _schedulerManager.ForgetDrainTarget(capture);
        }

        int first = outbox.Count;
        _replicationManager.HandleCaptureChanges(null, restarted, checkpointTs, outbox);

        // Dropping one restarted capture's roles can promote another restarted capture's former
        // incarnation (a move between two captures that both restarted): that commit is for the
        // former incarnation, and stamped with the new epoch it would make the new one sink a
        // span that is about to be placed elsewhere (found by the simulator, seed 211 of the small profile).
        int kept = first;
        for (int index = first; index < outbox.Count; index++)
        {
            if (outbox[index].Type != MessageType.DispatchTableRequest || !Contains(restarted, outbox[index].To))
            {
                outbox[kept++] = outbox[index];
            }
        }

        outbox.RemoveRange(kept, outbox.Count - kept);
    }

    private static bool Contains(IReadOnlyList<CaptureId> captures, CaptureId capture)
    {
        for (int index = 0; index < captures.Count; index++)
        {
            if (captures[index] == capture)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A drain target that left membership is forgotten: a capture coming back under its id is a new incarnation.</summary>
    private void ForgetDrainOfDepartedTarget()
    {
        var target = _schedulerManager.DrainingTarget;
        if (!target.IsNone && !_captureManager.Captures.ContainsKey(target))
        {
            _schedulerManager.ForgetDrainTarget(target);
        }
    }

    /// <summary>
    /// Reports reach replication sets only from alive captures and from their current
    /// incarnation: a late response of a restarted capture's former self must not move a set.
    /// Nor may a capture that left membership and came back before its removal was applied
    /// (removals wait until every capture is initialised): the sets still hold its former
    /// roles, and its new reports would be taken for theirs — e.g. an Absent report from a
    /// former secondary re-sends it a prepare just before the removal re-adds the span
    /// elsewhere, leaving an orphan pipeline (found by the simulator, seed 2620 of the small profile).
    /// </summary>
    private void KeepCurrentIncarnations(List<Message> messages)
    {
        int kept = 0;
        for (int index = 0; index < messages.Count; index++)
        {
            var message = messages[index];
            if (!_captureManager.Captures.TryGetValue(message.From, out var capture))
            {
                Counters.DroppedUnknownCapture++;
                continue;
            }

            if (_captureManager.HasPendingRemoval(message.From))
            {
                Counters.DroppedPendingRemoval++;
                continue;
            }

            if (!capture.Epoch.IsNone && capture.Epoch != message.Header.ProcessorEpoch)
            {
                Counters.DroppedStaleProcessorEpoch++;
                continue;
            }

            messages[kept++] = message;
        }

        messages.RemoveRange(kept, messages.Count - kept);
    }

    private void RecordAccepted(List<ScheduleTask> tasks)
    {
        foreach (var task in tasks)
        {
            switch (task)
            {
                case BurstBalanceTask burst:
                    foreach (var add in burst.AddTables)
                    {
                        History.Record(new SchedulingEvent(_tick, task.Scheduler, add.Kind, add.Span, add.Capture));
                    }

                    foreach (var remove in burst.RemoveTables)
                    {
                        History.Record(new SchedulingEvent(_tick, task.Scheduler, remove.Kind, remove.Span, remove.Capture));
                    }

                    foreach (var move in burst.MoveTables)
                    {
                        History.Record(new SchedulingEvent(_tick, task.Scheduler, move.Kind, move.Span, move.Destination));
                    }

                    break;
                case AddTableTask add when IsRunning(add):
                    History.Record(new SchedulingEvent(_tick, task.Scheduler, add.Kind, add.Span, add.Capture));
                    break;
                case MoveTableTask move when IsRunning(move):
                    History.Record(new SchedulingEvent(_tick, task.Scheduler, move.Kind, move.Span, move.Destination));
                    break;
                case RemoveTableTask remove when IsRunning(remove):
                    History.Record(new SchedulingEvent(_tick, task.Scheduler, remove.Kind, remove.Span, remove.Capture));
                    break;
                default:
                    break;
            }
        }
    }

    private bool IsRunning(ScheduleTask task)
    {
        Span span = task switch
        {
            AddTableTask add => add.Span,
            MoveTableTask move => move.Span,
            RemoveTableTask remove => remove.Span,
            _ => default,
        };
        return _replicationManager.RunningTasks.TryGetValue(span, out var running) && ReferenceEquals(running, task);
    }

    private void StampHeaders(List<Message> outbox)
    {
        for (int index = 0; index < outbox.Count; index++)
        {
            var message = outbox[index];
            if (message.To.IsNone || message.Type == MessageType.Unknown)
            {
                throw new InvalidOperationException($"coordinator produced a message without destination or type: {message}");
            }

            // A capture whose removal is still pending may be back as a new incarnation while the
            // sets hold its former one's roles: requests from those roles get no epoch, so the new
            // incarnation drops them (the epoch is its own only once the removal applied).
            var epoch = _captureManager.Captures.TryGetValue(message.To, out var capture) && !_captureManager.HasPendingRemoval(message.To)
                ? capture.Epoch
                : ProcessorEpoch.None;
            outbox[index] = message with
            {
                From = _options.Self,
                Header = new Header(_options.Version, _options.OwnerRevision, epoch, _options.ChangefeedEpoch),
            };
        }
    }
}
