namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;

public class BalanceSchedulerTests
{
    private static List<MoveTableTask> Run(BalanceScheduler scheduler, SchedulingContext context)
    {
        var tasks = new List<ScheduleTask>();
        scheduler.Schedule(context, tasks);
        return tasks.Cast<MoveTableTask>().ToList();
    }

    // §10.6 #3 (TestSchedulerBalanceCaptureOnline)
    [Fact(DisplayName = "Balance: a capture comes online → one move to it; paused while a capture is Stopping; forceBalance skips the interval until a round finds nothing")]
    public void CaptureOnline_ForceBalance_Interval()
    {
        var scheduler = new BalanceScheduler(new SchedulerConfig { CheckBalanceIntervalTicks = 1000 }, random: null);
        Assert.Equal(BalanceScheduler.SchedulerName, scheduler.Name);
        var unbalanced = Replicating((1, "a"), (2, "a"));

        // First check runs at once.
        var moves = Run(scheduler, Context(Initialized("a", "b"), unbalanced, tick: 5));
        var move = Assert.Single(moves);
        Assert.Equal((S(1), new CaptureId("b")), (move.Span, move.Destination));
        Assert.Null(move.Accept);
        Assert.True(scheduler.ForceBalance);

        // A Stopping capture pauses balancing; forceBalance is kept.
        var stopping = Captures("owner", ("a", CaptureState.Stopping), ("b", CaptureState.Initialized));
        Assert.Empty(Run(scheduler, Context(stopping, unbalanced, tick: 6)));
        Assert.True(scheduler.ForceBalance);

        // Inside the interval, but forced.
        Assert.Single(Run(scheduler, Context(Initialized("a", "b"), unbalanced, tick: 7)));

        // A forced round that finds the cluster balanced clears forceBalance...
        Assert.Empty(Run(scheduler, Context(Initialized("a", "b"), Replicating((1, "a"), (2, "b")), tick: 8)));
        Assert.False(scheduler.ForceBalance);

        // ...so an imbalance inside the interval waits for it (last check was at tick 5).
        Assert.Empty(Run(scheduler, Context(Initialized("a", "b"), unbalanced, tick: 1004)));
        Assert.Single(Run(scheduler, Context(Initialized("a", "b"), unbalanced, tick: 1005)));
    }

    [Fact(DisplayName = "Balance: the interval clock advances even when the check finds nothing or a capture is Stopping")]
    public void IntervalAdvances_EvenWithoutMoves()
    {
        var scheduler = new BalanceScheduler(new SchedulerConfig { CheckBalanceIntervalTicks = 10 }, random: null);
        var stopping = Captures("owner", ("a", CaptureState.Stopping), ("b", CaptureState.Initialized));
        var unbalanced = Replicating((1, "a"), (2, "a"));

        Assert.Empty(Run(scheduler, Context(stopping, unbalanced, tick: 0)));
        Assert.Empty(Run(scheduler, Context(Initialized("a", "b"), unbalanced, tick: 9)));
        Assert.Single(Run(scheduler, Context(Initialized("a", "b"), unbalanced, tick: 10)));
    }

    // §10.6 #4 (TestSchedulerBalanceTaskLimit)
    [Fact(DisplayName = "Balance: 4 tables on a, b empty → limit 2 gives 2 moves, limit 1 gives 1")]
    public void TaskLimit()
    {
        var sets = Replicating((1, "a"), (2, "a"), (3, "a"), (4, "a"));
        var captures = Initialized("a", "b");

        var two = new BalanceScheduler(new SchedulerConfig { MaxTaskConcurrency = 2 }, random: null);
        Assert.Equal(2, Run(two, Context(captures, sets)).Count);

        var one = new BalanceScheduler(new SchedulerConfig { MaxTaskConcurrency = 1 }, random: null);
        Assert.Single(Run(one, Context(captures, sets)));
    }

    [Fact(DisplayName = "Balance (§13 #6): a Replicating set whose primary is not a known capture is ignored, no crash")]
    public void UnknownPrimary_Ignored_NoCrash()
    {
        var scheduler = new BalanceScheduler(new SchedulerConfig(), random: new SeededRandom(7));
        var sets = Replicating((1, "a"), (2, "a"), (3, "a"), (4, "a"), (5, "ghost"));

        var moves = Run(scheduler, Context(Initialized("a", "b"), sets));

        // upper = ceil(5 sets / 2 captures) = 3: one of a's four spans goes to b; ghost's span is left alone.
        var move = Assert.Single(moves);
        Assert.Equal(new CaptureId("b"), move.Destination);
        Assert.NotEqual(S(5), move.Span);
    }
}
