namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;

public class SchedulerManagerTests
{
    private static List<ScheduleTask> Run(SchedulerManager manager, SchedulingContext context)
    {
        var tasks = new List<ScheduleTask>();
        manager.Schedule(context, tasks);
        return tasks;
    }

    // §10.6 #2 and #5 (TestSchedulerPriority, TestNewSchedulerManager)
    [Fact(DisplayName = "Manager: all five schedulers exist, basic first, in TiCDC's priority order")]
    public void FiveSchedulers_InPriorityOrder()
    {
        var manager = new SchedulerManager("owner", new SchedulerConfig(), null);

        Assert.Equal(
            ["basic-scheduler", "drain-capture-scheduler", "move-table-scheduler", "rebalance-scheduler", "balance-scheduler"],
            manager.Schedulers.Select(s => s.Name));
        Assert.IsType<BasicScheduler>(manager.Schedulers[0]);
        Assert.IsType<DrainCaptureScheduler>(manager.Schedulers[1]);
        Assert.IsType<MoveTableScheduler>(manager.Schedulers[2]);
        Assert.IsType<RebalanceScheduler>(manager.Schedulers[3]);
        Assert.IsType<BalanceScheduler>(manager.Schedulers[4]);
    }

    // §10.6 #6 (TestSchedulerManagerScheduler)
    [Fact(DisplayName = "Manager: basic bypasses the concurrency gate; a manual move waits while running tasks are at the limit")]
    public void Gate_BasicBypasses_OthersWait()
    {
        var manager = new SchedulerManager("owner", new SchedulerConfig { MaxTaskConcurrency = 1 }, null);
        var captures = Initialized("a", "b");

        var tasks = Run(manager, Context(captures, new SpanMap<ReplicationSet>(), [1], runningTasks: 1));
        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(tasks));
        Assert.Single(burst.AddTables);
        Assert.Equal(BasicScheduler.SchedulerName, burst.Scheduler);

        var sets = Replicating((1, "a"));
        Assert.Empty(Run(manager, Context(captures, sets, [1], runningTasks: 1)));

        Assert.True(manager.MoveTable(S(1), "b"));
        Assert.False(manager.MoveTable(S(1), "b"));
        Assert.Empty(Run(manager, Context(captures, sets, [1], runningTasks: 1)));

        var move = Assert.IsType<MoveTableTask>(Assert.Single(Run(manager, Context(captures, sets, [1], runningTasks: 0))));
        Assert.Equal((S(1), new CaptureId("b"), MoveTableScheduler.SchedulerName), (move.Span, move.Destination, move.Scheduler));
    }

    [Fact(DisplayName = "Manager: the first scheduler with output wins; lower ones do not run that tick")]
    public void FirstOutputWins()
    {
        var manager = new SchedulerManager("owner", new SchedulerConfig(), null);
        var captures = Initialized("a", "b");
        var sets = Replicating((1, "a"), (2, "a"), (3, "a"), (4, "a"));
        long[] current = [1, 2, 3, 4];
        Assert.True(manager.MoveTable(S(1), "b"));
        manager.Rebalance();

        var tasks = Run(manager, Context(captures, sets, current));
        Assert.Equal(MoveTableScheduler.SchedulerName, Assert.Single(tasks).Scheduler);
        tasks[0].Accept!();

        tasks = Run(manager, Context(captures, sets, current));
        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(tasks));
        Assert.Equal(RebalanceScheduler.SchedulerName, burst.Scheduler);
        burst.Accept!();

        // Balance ran at no point so far: its first check happens now.
        tasks = Run(manager, Context(captures, sets, current));
        Assert.Equal(2, tasks.Count);
        Assert.All(tasks, t => Assert.Equal(BalanceScheduler.SchedulerName, t.Scheduler));

        Assert.Equal(1, manager.TaskCounts[(MoveTableScheduler.SchedulerName, "moveTable")]);
        Assert.Equal(1, manager.TaskCounts[(RebalanceScheduler.SchedulerName, "burstBalance")]);
        Assert.Equal(2, manager.TaskCounts[(BalanceScheduler.SchedulerName, "moveTable")]);
    }

    [Fact(DisplayName = "Manager: drain has priority over manual moves and exposes its target; a second drain is refused")]
    public void Drain_TargetAndPriority()
    {
        var manager = new SchedulerManager("owner", new SchedulerConfig(), null);
        var captures = Initialized("a", "b");
        var sets = Replicating((1, "a"), (2, "b"));
        Assert.True(manager.DrainCapture("a"));
        Assert.False(manager.DrainCapture("b"));
        Assert.Equal(new CaptureId("a"), manager.DrainingTarget);
        Assert.True(manager.MoveTable(S(2), "a"));

        var move = Assert.IsType<MoveTableTask>(Assert.Single(Run(manager, Context(captures, sets, [1, 2]))));

        Assert.Equal((S(1), new CaptureId("b"), DrainCaptureScheduler.SchedulerName), (move.Span, move.Destination, move.Scheduler));
    }

    [Fact(DisplayName = "Manager: PlanRebalance reports the moves without triggering or changing anything")]
    public void PlanRebalance_ChangesNothing()
    {
        var manager = new SchedulerManager("owner", new SchedulerConfig(), new SeededRandom(1));
        var captures = Initialized("a", "b");
        var sets = Replicating((1, "a"), (2, "a"), (3, "a"), (4, "a"));
        var context = Context(captures, sets, [1, 2, 3, 4], tick: 0);

        var plan = manager.PlanRebalance(context);

        Assert.Equal([(S(1), new CaptureId("b")), (S(2), new CaptureId("b"))], plan.Select(m => (m.Span, m.Destination)));
        Assert.Empty(manager.TaskCounts);
        Assert.Empty(manager.PlanRebalance(Context(Captures("owner", ("a", CaptureState.Stopping), ("b", CaptureState.Initialized)), sets, [1, 2, 3, 4])));
    }

    [Fact(DisplayName = "Manager: same inputs and seed → same tasks")]
    public void Deterministic_WithSeed()
    {
        IEnumerable<(Span, CaptureId)> RunOnce()
        {
            var manager = new SchedulerManager("owner", new SchedulerConfig(), new SeededRandom(42));
            var placement = Enumerable.Range(1, 40).Select(t => ((long)t, "a")).ToArray();
            var tasks = Run(manager, Context(Initialized("a", "b", "c"), Replicating(placement), placement.Select(p => p.Item1)));
            return tasks.Cast<MoveTableTask>().Select(m => (m.Span, m.Destination)).ToList();
        }

        Assert.Equal(RunOnce(), RunOnce());
    }
}

public class SchedulerManagerSteadyStateTests
{
    [Fact(DisplayName = "Manager: a steady-state poll over 131,072 Replicating spans allocates a constant few bytes, nothing per span")]
    public void SteadyState_131072Spans_ConstantAllocation()
    {
        const int tables = 131_072;
        var ids = Enumerable.Range(0, 8).Select(i => $"capture-{i}").ToArray();
        var sets = Replicating(Enumerable.Range(1, tables).Select(t => ((long)t, ids[t % ids.Length])).ToArray());
        var captures = Initialized(ids);
        var manager = new SchedulerManager("owner", new SchedulerConfig(), new SeededRandom(1));
        var current = Enumerable.Range(1, tables).Select(t => (long)t).ToArray();
        var tasks = new List<ScheduleTask>();
        manager.Schedule(Context(captures, sets, current, tick: 1), tasks); // first balance check: balanced
        Assert.Empty(tasks);
        var context = Context(captures, sets, current, tick: 2);
        manager.Schedule(context, tasks);

        // The smallest of three measurements: a single one can include the runtime's 8 KB
        // allocation-context refill that happens to land inside the measured call.
        long allocated = long.MaxValue;
        for (int sample = 0; sample < 3; sample++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            manager.Schedule(context, tasks);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Empty(tasks);
        Assert.True(allocated <= 256, $"allocated {allocated} bytes");
    }
}
