namespace Capstan.Core.Scheduling;

using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>
/// A task a scheduler asks the replication manager to carry out. <see cref="Accept"/> is called
/// once the manager accepts it (it passed the concurrency, duplicate and existence checks).
/// </summary>
public abstract record ScheduleTask
{
    /// <summary>Invoked when the replication manager accepts the task; may be null.</summary>
    public Action? Accept { get; init; }

    /// <summary>Name of the scheduler that produced the task (for metrics and "explain").</summary>
    public string Scheduler { get; init; } = string.Empty;

    /// <summary>Metric name of the task kind: addTable, removeTable, moveTable, burstBalance.</summary>
    public abstract string Kind { get; }
}

/// <summary>Add a span on a capture, starting from a checkpoint.</summary>
public sealed record AddTableTask(Span Span, CaptureId Capture, Ts CheckpointTs) : ScheduleTask
{
    /// <inheritdoc/>
    public override string Kind => "addTable";
}

/// <summary>Remove a span (Capture is informational: the set's holders are stopped).</summary>
public sealed record RemoveTableTask(Span Span, CaptureId Capture) : ScheduleTask
{
    /// <inheritdoc/>
    public override string Kind => "removeTable";
}

/// <summary>Move a replicating span to a destination capture, two-phase.</summary>
public sealed record MoveTableTask(Span Span, CaptureId Destination) : ScheduleTask
{
    /// <inheritdoc/>
    public override string Kind => "moveTable";
}

/// <summary>
/// Many adds, removes and moves at once; not limited by max task concurrency (each item still
/// skips spans that already have a running task).
/// </summary>
public sealed record BurstBalanceTask(
    IReadOnlyList<AddTableTask> AddTables,
    IReadOnlyList<RemoveTableTask> RemoveTables,
    IReadOnlyList<MoveTableTask> MoveTables) : ScheduleTask
{
    /// <inheritdoc/>
    public override string Kind => "burstBalance";
}
