namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;
using static LoadBalanceFixtures;

public class LoadBalanceSchedulerTests
{
    private static List<MoveTableTask> Run(BalanceScheduler scheduler, SchedulingContext context)
    {
        var tasks = new List<ScheduleTask>();
        scheduler.Schedule(context, tasks);
        return tasks.Cast<MoveTableTask>().ToList();
    }

    private static List<ScheduleTask> Run(SchedulerManager manager, SchedulingContext context)
    {
        var tasks = new List<ScheduleTask>();
        manager.Schedule(context, tasks);
        return tasks;
    }

    /// <summary>Six hot spans on a, b and c empty: the load plan has more moves than any limit used here.</summary>
    private static SpanMap<ReplicationSet> SixHotOnA() =>
        Loads((1, "a", 1000), (2, "a", 1000), (3, "a", 1000), (4, "a", 1000), (5, "a", 1000), (6, "a", 1000));

    [Fact(DisplayName = "Load balance: count balance sees 2 + 2 spans and does nothing; load balance swaps a hot span and a light one")]
    public void CountBalanced_LoadSkewed_OnlyLoadModeMoves()
    {
        var sets = Loads((1, "a", 1000), (2, "a", 1000), (3, "b", 10), (4, "b", 10));
        var captures = Initialized("a", "b");

        var count = new BalanceScheduler(new SchedulerConfig { BalanceMode = BalanceMode.Count }, random: null);
        Assert.Empty(Run(count, Context(captures, sets)));

        // a 2002, b 22 → t1 to b (a 1001, b 1023) → t3 back to a (1012 each).
        var load = new BalanceScheduler(LoadConfig(), random: null);
        var moves = Run(load, Context(captures, sets));
        Assert.Equal([(1L, "b"), (3L, "a")], Describe(moves));
        Assert.All(moves, m => Assert.Equal(BalanceScheduler.SchedulerName, m.Scheduler));
        Assert.All(moves, m => Assert.NotNull(m.Accept));
    }

    [Theory(DisplayName = "Load balance: at most MaxTaskConcurrency − running tasks moves per round")]
    [InlineData(3, 0, 3)]
    [InlineData(3, 1, 2)]
    [InlineData(3, 2, 1)]
    [InlineData(3, 3, 0)]
    [InlineData(1, 0, 1)]
    public void MovesBoundedByFreeTaskSlots(int maxTaskConcurrency, int running, int expected)
    {
        var scheduler = new BalanceScheduler(LoadConfig(maxTaskConcurrency), random: null);

        var moves = Run(scheduler, Context(Initialized("a", "b", "c"), SixHotOnA(), runningTasks: running));

        Assert.Equal(expected, moves.Count);
    }

    [Fact(DisplayName = "Load balance through the manager: nothing below basic runs while tasks fill MaxTaskConcurrency")]
    public void Manager_GatesLoadBalance()
    {
        var manager = new SchedulerManager("owner", LoadConfig(maxTaskConcurrency: 2), null);
        long[] current = [1, 2, 3, 4, 5, 6];

        Assert.Empty(Run(manager, Context(Initialized("a", "b", "c"), SixHotOnA(), current, runningTasks: 2)));
        var tasks = Run(manager, Context(Initialized("a", "b", "c"), SixHotOnA(), current, runningTasks: 1, tick: 1));
        Assert.Equal(BalanceScheduler.SchedulerName, Assert.Single(tasks).Scheduler);
    }

    [Fact(DisplayName = "Load balance: paused while a capture is Stopping; an Uninitialized capture never receives a span")]
    public void StoppingPauses_UninitializedNeverDestination()
    {
        var scheduler = new BalanceScheduler(LoadConfig(), random: null);
        var stopping = Captures("owner", ("a", CaptureState.Initialized), ("b", CaptureState.Initialized), ("c", CaptureState.Stopping));
        Assert.Empty(Run(scheduler, Context(stopping, SixHotOnA(), tick: 1)));

        var joining = Captures("owner", ("a", CaptureState.Initialized), ("b", CaptureState.Initialized), ("c", CaptureState.Uninitialized));
        var moves = Run(scheduler, Context(joining, SixHotOnA(), tick: 2));
        Assert.NotEmpty(moves);
        Assert.All(moves, m => Assert.Equal(new CaptureId("b"), m.Destination));
    }

    [Fact(DisplayName = "Hysteresis: once its move is accepted, a span stays put for MoveCooldownTicks even when loads shift back; an unaccepted move starts no cool-down")]
    public void AcceptedMove_StartsCooldown()
    {
        var scheduler = new BalanceScheduler(LoadConfig(cooldownTicks: 100), random: null);
        var captures = Initialized("a", "b");

        // Tick 10: two hot spans on a → t1 goes to b. A plan that is not accepted leaves no trace.
        var moves = Run(scheduler, Context(captures, Loads((1, "a", 1000), (2, "a", 1000)), tick: 10));
        var move = Assert.Single(moves);
        Assert.Equal(S(1), move.Span);
        Assert.Equal(0, scheduler.Cooldown.Count);
        move.Accept!();
        Assert.True(scheduler.Cooldown.IsCoolingDown(S(1), 10));
        Assert.True(scheduler.Cooldown.TryGetLastMoveTick(S(1), out long movedAt) && movedAt == 10);

        // t1 now replicates on b; then t2 goes idle and t3 heats up on b. Moving t1 back would help
        // as much as moving t3 (and t1 comes first in span order), but t1 is cooling down.
        var shifted = Loads((1, "b", 1000), (2, "a", 0), (3, "b", 1000));
        Assert.Equal([(3L, "a")], Describe(Run(scheduler, Context(captures, shifted, tick: 60))));
        Assert.Equal([(3L, "a")], Describe(Run(scheduler, Context(captures, shifted, tick: 109))));

        // From tick 10 + 100 on, t1 may move again.
        Assert.Equal([(1L, "a")], Describe(Run(scheduler, Context(captures, shifted, tick: 110))));
    }

    [Fact(DisplayName = "Hysteresis: cool-down entries of removed spans and expired entries are forgotten")]
    public void Cooldown_ForgetsRemovedAndExpired()
    {
        var scheduler = new BalanceScheduler(LoadConfig(cooldownTicks: 100), random: null);
        var captures = Initialized("a", "b", "c");
        foreach (var move in Run(scheduler, Context(captures, SixHotOnA(), tick: 0)))
        {
            move.Accept!();
        }

        Assert.Equal(4, scheduler.Cooldown.Count); // t1 → b, t2 → c, t3 → b, t4 → c

        // Tables 1 and 2 dropped (their sets are gone).
        var after = Loads((3, "b", 1000), (4, "c", 1000), (5, "a", 1000), (6, "a", 1000));
        Assert.Empty(Run(scheduler, Context(captures, after, tick: 50)));
        Assert.Equal(2, scheduler.Cooldown.Count);
        Assert.True(scheduler.Cooldown.IsCoolingDown(S(3), 50));
        Assert.True(scheduler.Cooldown.IsCoolingDown(S(4), 50));

        Run(scheduler, Context(captures, after, tick: 100));
        Assert.Equal(0, scheduler.Cooldown.Count);
    }

    [Fact(DisplayName = "Hysteresis: MoveCooldownTicks 0 keeps no log at all")]
    public void ZeroCooldown_NoLog()
    {
        var cooldown = new MoveCooldown(0);
        cooldown.Record(S(1), 5);
        Assert.Equal(0, cooldown.Count);
        Assert.False(cooldown.IsCoolingDown(S(1), 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MoveCooldown(-1));
    }

    [Fact(DisplayName = "Manual rebalance in load mode: one burst of the whole load plan, cool-downs ignored but started on accept; PlanRebalance shows the same moves")]
    public void ManualRebalance_LoadMode()
    {
        var manager = new SchedulerManager("owner", LoadConfig(maxTaskConcurrency: 1) with { CheckBalanceIntervalTicks = 1_000_000 }, null);
        var captures = Initialized("a", "b", "c");
        long[] current = [1, 2, 3, 4, 5, 6];
        var context = Context(captures, SixHotOnA(), current, tick: 7);

        // The periodic balance has its first check on the first call: take it out of the way.
        var periodic = Assert.IsType<MoveTableTask>(Assert.Single(Run(manager, context)));
        periodic.Accept!();

        var plan = manager.PlanRebalance(context);
        Assert.Equal([(1L, "b"), (2L, "c"), (3L, "b"), (4L, "c")], Describe(plan));

        manager.Rebalance();
        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(Run(manager, context)));
        Assert.Equal(RebalanceScheduler.SchedulerName, burst.Scheduler);
        Assert.Equal(Describe(plan), Describe(burst.MoveTables)); // t1 cools down, yet a manual rebalance may move it
        burst.Accept!();

        var balance = Assert.IsType<BalanceScheduler>(manager.Schedulers[4]);
        Assert.All([1L, 2L, 3L, 4L], t => Assert.True(balance.Cooldown.IsCoolingDown(S(t), 8)));
        Assert.False(balance.Cooldown.IsCoolingDown(S(5), 8));
    }

    [Fact(DisplayName = "Manual rebalance in count mode is unchanged: span counts, no cool-down log")]
    public void ManualRebalance_CountMode_Unchanged()
    {
        var manager = new SchedulerManager("owner", new SchedulerConfig { CheckBalanceIntervalTicks = 1_000_000 }, null);
        var captures = Initialized("a", "b");
        var sets = Loads((1, "a", 1000), (2, "a", 1000), (3, "b", 0), (4, "b", 0));

        Assert.Empty(manager.PlanRebalance(Context(captures, sets, [1, 2, 3, 4])));
        var skewedCounts = Replicating((1, "a"), (2, "a"), (3, "a"), (4, "a"));
        Assert.Equal([(1L, "b"), (2L, "b")], Describe(manager.PlanRebalance(Context(captures, skewedCounts, [1, 2, 3, 4]))));
    }
}
