namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;

public class MoveTableSchedulerTests
{
    private static List<ScheduleTask> Run(MoveTableScheduler scheduler, SchedulingContext context)
    {
        var tasks = new List<ScheduleTask>();
        scheduler.Schedule(context, tasks);
        return tasks;
    }

    // §10.6 #12 (TestSchedulerMoveTable)
    [Fact(DisplayName = "Move table: dropped when the span is not current, the capture unknown, the set missing or not Replicating; kept until accepted; dropped when the target stops")]
    public void MoveTable_ValidationAndLifecycle()
    {
        var scheduler = new MoveTableScheduler();
        Assert.Equal(MoveTableScheduler.SchedulerName, scheduler.Name);
        var captures = Initialized("a", "b");
        var sets = Replicating((1, "a"), (2, "a"));

        // No captures → nothing, and the task stays pending.
        Assert.True(scheduler.AddTask(S(1), "b"));
        Assert.False(scheduler.AddTask(S(1), "a"));
        Assert.Empty(Run(scheduler, Context(NoCaptures, sets, [1, 2])));
        Assert.Single(scheduler.Pending);

        // Span not current (table dropped).
        Assert.Empty(Run(scheduler, Context(captures, sets, [2])));
        Assert.Empty(scheduler.Pending);

        // Target unknown.
        Assert.True(scheduler.AddTask(S(1), "c"));
        Assert.Empty(Run(scheduler, Context(captures, sets, [1, 2])));
        Assert.Empty(scheduler.Pending);

        // No replication set.
        Assert.True(scheduler.AddTask(S(3), "b"));
        Assert.Empty(Run(scheduler, Context(captures, sets, [1, 2, 3])));
        Assert.Empty(scheduler.Pending);

        // Set not Replicating.
        Assert.True(scheduler.AddTask(S(1), "b"));
        Assert.Empty(Run(scheduler, Context(captures, Sets(Set(1, ReplicationSetState.Prepare, "a")), [1])));
        Assert.Empty(scheduler.Pending);

        // Valid: returned, and the very same object stays pending until accepted.
        Assert.True(scheduler.AddTask(S(1), "b"));
        var task = Assert.IsType<MoveTableTask>(Assert.Single(Run(scheduler, Context(captures, sets, [1, 2]))));
        Assert.Equal((S(1), "b"), (task.Span, task.Destination.Value));
        Assert.Equal(MoveTableScheduler.SchedulerName, task.Scheduler);
        Assert.Same(task, Assert.Single(scheduler.Pending));
        Assert.Same(task, Assert.Single(Run(scheduler, Context(captures, sets, [1, 2])))); // retried while not accepted

        // The target becomes Stopping → dropped.
        var stopping = Captures("owner", ("a", CaptureState.Initialized), ("b", CaptureState.Stopping));
        Assert.Empty(Run(scheduler, Context(stopping, sets, [1, 2])));
        Assert.Empty(scheduler.Pending);
    }

    [Fact(DisplayName = "Move table: Accept forgets the task; a stale Accept does not forget a newer move of the same span")]
    public void Accept_ForgetsOnlyItsOwnTask()
    {
        var scheduler = new MoveTableScheduler();
        var captures = Initialized("a", "b");
        var sets = Replicating((1, "a"));
        Assert.True(scheduler.AddTask(S(1), "b"));
        var first = (MoveTableTask)Assert.Single(Run(scheduler, Context(captures, sets, [1])));
        first.Accept!();
        Assert.Empty(scheduler.Pending);

        Assert.True(scheduler.AddTask(S(1), "b"));
        var second = Assert.Single(scheduler.Pending);
        first.Accept!();
        Assert.Same(second, Assert.Single(scheduler.Pending));
    }

    [Fact(DisplayName = "Move table (§13 #25): never to an Uninitialized capture")]
    public void UninitializedTarget_Dropped()
    {
        var scheduler = new MoveTableScheduler();
        var captures = Captures("owner", ("a", CaptureState.Initialized), ("b", CaptureState.Uninitialized));
        Assert.True(scheduler.AddTask(S(1), "b"));

        Assert.Empty(Run(scheduler, Context(captures, Replicating((1, "a")), [1])));
        Assert.Empty(scheduler.Pending);
    }

    [Fact(DisplayName = "Move table: pending moves are returned in span order")]
    public void Pending_InSpanOrder()
    {
        var scheduler = new MoveTableScheduler();
        Assert.True(scheduler.AddTask(S(3), "b"));
        Assert.True(scheduler.AddTask(S(1), "b"));
        Assert.True(scheduler.AddTask(S(2), "b"));

        var tasks = Run(scheduler, Context(Initialized("a", "b"), Replicating((1, "a"), (2, "a"), (3, "a")), [1, 2, 3]));

        Assert.Equal([S(1), S(2), S(3)], tasks.Cast<MoveTableTask>().Select(t => t.Span));
    }
}
