namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;
using Capstan.Core.Tests.Replication;
using static Capstan.Core.Tests.Replication.ManagerTestKit;

/// <summary>
/// The basic scheduler skips its walk over the current spans while nothing changed since a tick
/// that found nothing to do (same spans instance, same <see cref="ReplicationManager.SetStateVersion"/>).
/// Any change that can create work must change the version.
/// </summary>
public class BasicSchedulerQuietTickTests
{
    private static readonly IReadOnlyList<Span> Current = [T(1), T(2), T(3)];

    private static ReplicationManager Steady() => ManagerTestKit.Rebuilt(
        10,
        ("a", Status(T(1), TableState.Replicating, 5, 5)),
        ("b", Status(T(2), TableState.Replicating, 5, 5)),
        ("a", Status(T(3), TableState.Replicating, 5, 5)));

    private static List<ScheduleTask> Run(BasicScheduler scheduler, ReplicationManager manager)
    {
        var tasks = new List<ScheduleTask>();
        scheduler.Schedule(
            new SchedulingContext
            {
                CheckpointTs = 5,
                CurrentSpans = Current,
                Captures = Initialized("a", "b").Captures,
                ReplicationSets = manager.Spans,
                SetStateVersion = manager.SetStateVersion,
            },
            tasks);
        return tasks;
    }

    [Fact(DisplayName = "Basic, quiet ticks: the primary stops its span (Replicating → Absent) → the next tick re-adds it")]
    public void PrimaryStops_AfterQuietTick_SpanReAdded()
    {
        var manager = Steady();
        var scheduler = new BasicScheduler(new SchedulerConfig());
        Assert.Empty(Run(scheduler, manager));
        Assert.Empty(Run(scheduler, manager));
        long version = manager.SetStateVersion;

        manager.Handle(Heartbeat("b", Status(T(2), TableState.Stopped, 6, 6)));

        Assert.NotEqual(version, manager.SetStateVersion);
        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(Run(scheduler, manager)));
        Assert.Equal([2L], burst.AddTables.Select(add => add.Span.TableId.Value));
    }

    [Fact(DisplayName = "Basic, quiet ticks: a capture dies → the next tick re-adds its spans")]
    public void CaptureDies_AfterQuietTick_SpansReAdded()
    {
        var manager = Steady();
        var scheduler = new BasicScheduler(new SchedulerConfig());
        Assert.Empty(Run(scheduler, manager));

        manager.CaptureRemoved("a");

        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(Run(scheduler, manager)));
        Assert.Equal([1L, 3L], burst.AddTables.Select(add => add.Span.TableId.Value));
    }

    [Fact(DisplayName = "Basic, quiet ticks: a set removed behind the scheduler's back (map key change) → the next tick adds the span again")]
    public void SetRemoved_AfterQuietTick_SpanAdded()
    {
        var manager = Steady();
        var scheduler = new BasicScheduler(new SchedulerConfig());
        Assert.Empty(Run(scheduler, manager));

        manager.Spans.Remove(T(3));

        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(Run(scheduler, manager)));
        Assert.Equal([3L], burst.AddTables.Select(add => add.Span.TableId.Value));
    }

    [Fact(DisplayName = "ReplicationManager: a status that changes no state keeps the set-state version; one that does changes it")]
    public void SetStateVersion_FollowsStateChanges()
    {
        var manager = Steady();
        long version = manager.SetStateVersion;

        manager.Handle(Heartbeat("a", Status(T(1), TableState.Replicating, 7, 7)));
        Assert.Equal(version, manager.SetStateVersion);

        manager.Tasks(new MoveTableTask(T(1), "b"));
        Assert.NotEqual(version, manager.SetStateVersion);
    }
}
