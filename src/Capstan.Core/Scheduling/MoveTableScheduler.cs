namespace Capstan.Core.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>
/// Manual moves requested through the API (spec §6.3). A move stays pending until the replication
/// manager accepts it; each tick it is re-validated and dropped (not deferred) when its span is no
/// longer current, has no set or is not Replicating, or its destination is unknown or not
/// Initialized.
/// </summary>
public sealed class MoveTableScheduler : IScheduler
{
    /// <summary>The scheduler's name.</summary>
    public const string SchedulerName = "move-table-scheduler";

    /// <summary>Pending moves in span order.</summary>
    private readonly SortedDictionary<Span, MoveTableTask> _pending = [];

    /// <inheritdoc/>
    public string Name => SchedulerName;

    /// <summary>Pending moves in span order (for inspection).</summary>
    public IReadOnlyCollection<MoveTableTask> Pending => _pending.Values;

    /// <summary>Queues a move of <paramref name="span"/> to <paramref name="target"/>; false when that span already has one.</summary>
    public bool AddTask(Span span, CaptureId target)
    {
        if (_pending.ContainsKey(span))
        {
            return false;
        }

        MoveTableTask? task = null;
        task = new MoveTableTask(span, target)
        {
            Scheduler = SchedulerName,
            Accept = () => RemoveIfPending(task!),
        };
        _pending.Add(span, task);
        return true;
    }

    /// <inheritdoc/>
    public void Schedule(SchedulingContext context, List<ScheduleTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tasks);
        if (_pending.Count == 0 || context.Captures.Count == 0)
        {
            return;
        }

        List<Span>? dropped = null;
        foreach (var (span, task) in _pending)
        {
            if (IsValid(task, context))
            {
                tasks.Add(task);
            }
            else
            {
                (dropped ??= []).Add(span);
            }
        }

        if (dropped is not null)
        {
            foreach (var span in dropped)
            {
                _pending.Remove(span);
            }
        }
    }

    private static bool IsValid(MoveTableTask task, SchedulingContext context) =>
        context.Captures.TryGetValue(task.Destination, out var destination)
        && destination.State == CaptureState.Initialized
        && context.ReplicationSets.TryGetValue(task.Span, out var set)
        && set.State == ReplicationSetState.Replicating
        && IsCurrent(task.Span, context.CurrentSpans);

    /// <summary>Linear scan: manual moves are rare and few, so no per-tick span set is built for them.</summary>
    private static bool IsCurrent(Span span, IReadOnlyList<Span> currentSpans)
    {
        for (int i = 0; i < currentSpans.Count; i++)
        {
            if (currentSpans[i] == span)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Accept callback: forgets the task unless it was already dropped and replaced by a newer one.</summary>
    private void RemoveIfPending(MoveTableTask task)
    {
        if (_pending.TryGetValue(task.Span, out var current) && ReferenceEquals(current, task))
        {
            _pending.Remove(task.Span);
        }
    }
}
