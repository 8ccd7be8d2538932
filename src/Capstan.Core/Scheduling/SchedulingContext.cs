namespace Capstan.Core.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>Everything a scheduler looks at in one coordinator tick. Schedulers only read it.</summary>
public sealed class SchedulingContext
{
    /// <summary>The changefeed's checkpoint; new spans start from it.</summary>
    public Ts CheckpointTs { get; init; }

    /// <summary>The spans that should exist (from the reconciler); distinct.</summary>
    public required IReadOnlyList<Span> CurrentSpans { get; init; }

    /// <summary>Known captures (the capture manager's map).</summary>
    public required IReadOnlyDictionary<CaptureId, CaptureStatus> Captures { get; init; }

    /// <summary>The replication sets, in span order.</summary>
    public required SpanMap<ReplicationSet> ReplicationSets { get; init; }

    /// <summary>Tasks the replication manager is running (possibly one tick stale).</summary>
    public int RunningTaskCount { get; init; }

    /// <summary>The coordinator's tick counter; the periodic balance measures its interval in it.</summary>
    public long Tick { get; init; }

    /// <summary>
    /// <see cref="ReplicationManager.SetStateVersion"/>: unchanged while no set changed state and
    /// no set was added or removed, so a scheduler may reuse a decision taken at the same version
    /// for the same <see cref="CurrentSpans"/> instance. Null (unknown) disables such reuse.
    /// </summary>
    public long? SetStateVersion { get; init; }
}

/// <summary>One scheduling policy. Produces tasks; never changes replication sets itself.</summary>
public interface IScheduler
{
    /// <summary>Name used in metrics and on the tasks it produces.</summary>
    string Name { get; }

    /// <summary>Appends this tick's tasks (possibly none) to <paramref name="tasks"/>.</summary>
    void Schedule(SchedulingContext context, List<ScheduleTask> tasks);
}
