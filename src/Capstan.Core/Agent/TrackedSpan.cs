namespace Capstan.Core.Agent;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>A dispatch request the agent is working on; at most one per span, kept until it finishes.</summary>
/// <param name="IsRemove">Remove the span (otherwise add it).</param>
/// <param name="IsPrepare">For an add: phase 1 only (the owner's "secondary"); otherwise phase 2 (commit).</param>
/// <param name="Checkpoint">For an add: where the pipeline starts.</param>
/// <param name="CommitIssued">For a commit: AddTableSpan(isPrepare: false) was accepted on the Prepared span (Go's "processed").</param>
internal readonly record struct DispatchTask(bool IsRemove, bool IsPrepare, Checkpoint Checkpoint, bool CommitIssued = false)
{
    public static DispatchTask Add(Checkpoint checkpoint, bool isPrepare) => new(false, isPrepare, checkpoint);

    public static DispatchTask Remove() => new(true, false, default);
}

/// <summary>
/// The agent's view of one span (spec §5.7): the state last read from the executor and the task
/// in progress. Each poll runs the task, which calls the executor and advances while the executor's
/// state keeps changing, emitting at most one response.
/// </summary>
/// <remarks>
/// <code>
///  Add task (prepare = phase 1, commit = phase 2), by executor state:
///   Absent ──AddTableSpan done──▶ Preparing ──IsAddTableSpanFinished──▶ Prepared ─┬─ prepare: respond Prepared, done
///     │ not done / error:                │ not done: no response            │
///     ▼ respond (Absent); span dropped   ▼ (Preparing is never reported)    └─ commit: AddTableSpan(false) once, then
///                                                                              IsAddTableSpanFinished(false)
///                                                                              not done: respond Prepared (every tick)
///                                                                              done ──▶ Replicating: respond, done
///   Stopping / Stopped: the add is ignored: respond the status, done.
///
///  Remove task, by executor state:
///   Preparing / Prepared / Replicating ──RemoveTableSpan done──▶ Stopping / Stopped
///     │ not done: respond Stopping                                 │ IsRemoveTableSpanFinished
///                                                                  ├─ not done: respond Stopping
///                                                                  └─ done: respond Stopped + final checkpoint, done
///   Absent: respond Absent, done.
///
///  Unknown (the executor failed or broke its contract): no response, keep the task, retry next tick.
/// </code>
/// Each step continues only if the executor's state changed, and at most
/// <see cref="MaxStepsPerPoll"/> steps run per poll (a state that never settles is an executor error).
/// </remarks>
internal sealed class TrackedSpan
{
    /// <summary>The longest legitimate path is Absent → Preparing → Prepared → Replicating; anything longer is a cycle.</summary>
    public const int MaxStepsPerPoll = 8;

    private DispatchTask? _task;

    public TrackedSpan(Span span)
    {
        Span = span;
        State = TableState.Absent;
    }

    public Span Span { get; }

    /// <summary>The executor's state at the last refresh; Absent for a span that was just added.</summary>
    public TableState State { get; private set; }

    public bool HasTask => _task.HasValue;

    /// <summary>
    /// The highest owner revision known to consider this capture a holder of the span: it listed
    /// the span in a heartbeat or sent a dispatch request for it. Carried into the kept stop.
    /// </summary>
    public OwnerRevision ClaimedBy { get; private set; }

    /// <summary>The status reported when a remove finished (Stopped, final checkpoint); null otherwise.</summary>
    public TableStatus? FinalStatus { get; private set; }

    /// <summary>Records that the owner of <paramref name="revision"/> considers this capture a holder.</summary>
    public void Claim(OwnerRevision revision)
    {
        if (revision > ClaimedBy)
        {
            ClaimedBy = revision;
        }
    }

    /// <summary>A pending remove makes heartbeats report the span as Stopping, whatever the executor says.</summary>
    public bool HasRemoveTask => _task is { IsRemove: true };

    /// <summary>Attaches a task unless one is in progress (then the new one is ignored: the owner resends).</summary>
    public bool TryInject(DispatchTask task)
    {
        if (_task.HasValue)
        {
            return false;
        }

        _task = task;
        FinalStatus = null;
        return true;
    }

    /// <summary>The poll pass in which <see cref="State"/> was last read by a heartbeat (see <see cref="Observe"/>).</summary>
    public long ObservedInPass { get; private set; }

    /// <summary>
    /// Records the state a heartbeat just read from the executor in poll pass <paramref name="pass"/>,
    /// so that the poll of the same pass need not ask again for a span without a task.
    /// </summary>
    public void Observe(TableState state, long pass)
    {
        State = state;
        ObservedInPass = pass;
    }

    /// <summary>Reads the executor's state into <see cref="State"/>.</summary>
    public TableState Refresh(GuardedExecutor executor)
    {
        State = executor.GetTableSpanStatus(Span, collectStats: false).State;
        return State;
    }

    /// <summary>Runs the task, if any; returns the response to send, or null.</summary>
    public DispatchTableResponse? Poll(GuardedExecutor executor)
    {
        if (_task is not { } task)
        {
            return null;
        }

        TableState state = Refresh(executor);
        for (int step = 0; step < MaxStepsPerPoll; step++)
        {
            Step result = task.IsRemove ? RemoveStep(state, executor) : AddStep(state, task, executor);
            if (!result.Advanced)
            {
                return result.Response;
            }

            TableState next = Refresh(executor);
            if (next == state)
            {
                return null;
            }

            state = next;
            task = _task ?? task;
        }

        executor.RecordContractViolation();
        return null;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Span} {State} task={(_task is { } t ? t.ToString() : "none")}";

    private Step AddStep(TableState state, DispatchTask task, GuardedExecutor executor) => state switch
    {
        TableState.Absent => AddWhenAbsent(task, executor),
        TableState.Preparing => executor.IsAddTableSpanFinished(Span, task.IsPrepare) ? Step.Advance : Step.Wait,
        TableState.Prepared => AddWhenPrepared(task, executor),
        TableState.Replicating or TableState.Stopping or TableState.Stopped => FinishAdd(executor),
        _ => Step.Wait,
    };

    private Step AddWhenAbsent(DispatchTask task, GuardedExecutor executor)
    {
        // Not done or refused: report the (usually Absent) status; the span is then dropped with its task and the owner resends.
        return executor.AddTableSpan(Span, task.Checkpoint, task.IsPrepare) ? Step.Advance : Step.Respond(AddResponse(executor));
    }

    private Step AddWhenPrepared(DispatchTask task, GuardedExecutor executor)
    {
        if (task.IsPrepare)
        {
            return FinishAdd(executor);
        }

        if (!task.CommitIssued)
        {
            if (!executor.AddTableSpan(Span, task.Checkpoint, isPrepare: false))
            {
                return Step.Respond(AddResponse(executor));
            }

            _task = task with { CommitIssued = true };
        }

        return executor.IsAddTableSpanFinished(Span, isPrepare: false) ? Step.Advance : Step.Respond(AddResponse(executor));
    }

    /// <summary>Replicating (done), or Stopping/Stopped (the add is ignored): report and clear the task.</summary>
    private Step FinishAdd(GuardedExecutor executor)
    {
        _task = null;
        return Step.Respond(AddResponse(executor));
    }

    private Step RemoveStep(TableState state, GuardedExecutor executor)
    {
        switch (state)
        {
            case TableState.Absent:
                _task = null;
                return Step.Respond(RemoveResponse(executor.GetTableSpanStatus(Span, collectStats: false)));
            case TableState.Preparing or TableState.Prepared or TableState.Replicating:
                return executor.RemoveTableSpan(Span) ? Step.Advance : Step.Respond(StoppingResponse(executor));
            case TableState.Stopping or TableState.Stopped:
                return RemoveWhenStopping(executor);
            default:
                return Step.Wait;
        }
    }

    private Step RemoveWhenStopping(GuardedExecutor executor)
    {
        if (!executor.IsRemoveTableSpanFinished(Span, out Ts checkpointTs))
        {
            return Step.Respond(StoppingResponse(executor));
        }

        _task = null;
        TableStatus status = executor.GetTableSpanStatus(Span, collectStats: false);
        DispatchTableResponse response = RemoveResponse(status with
        {
            State = TableState.Stopped,
            Checkpoint = status.Checkpoint with { CheckpointTs = checkpointTs },
        });
        FinalStatus = response.RemoveTable!.Status;
        return Step.Respond(response);
    }

    private DispatchTableResponse AddResponse(GuardedExecutor executor) =>
        new() { AddTable = new AddTableResponse(executor.GetTableSpanStatus(Span, collectStats: false)) };

    private DispatchTableResponse StoppingResponse(GuardedExecutor executor) =>
        RemoveResponse(executor.GetTableSpanStatus(Span, collectStats: false) with { State = TableState.Stopping });

    /// <summary>A removed span reports no resolved ts: a zero resolved ts below the checkpoint takes the checkpoint's value.</summary>
    private static DispatchTableResponse RemoveResponse(TableStatus status)
    {
        Checkpoint checkpoint = status.Checkpoint;
        if (checkpoint.ResolvedTs < checkpoint.CheckpointTs && checkpoint.ResolvedTs == Ts.Zero)
        {
            status = status with { Checkpoint = checkpoint with { ResolvedTs = checkpoint.CheckpointTs } };
        }

        return new() { RemoveTable = new RemoveTableResponse(status) };
    }

    /// <summary>Outcome of one step: advance (re-read the state and continue), or stop with an optional response.</summary>
    private readonly record struct Step(bool Advanced, DispatchTableResponse? Response)
    {
        public static Step Advance => new(true, null);

        public static Step Wait => new(false, null);

        public static Step Respond(DispatchTableResponse response) => new(false, response);
    }
}
