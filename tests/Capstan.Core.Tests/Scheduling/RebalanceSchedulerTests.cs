namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;

public class RebalanceSchedulerTests
{
    private static List<ScheduleTask> Run(RebalanceScheduler scheduler, SchedulingContext context)
    {
        var tasks = new List<ScheduleTask>();
        scheduler.Schedule(context, tasks);
        return tasks;
    }

    // §10.6 #13 (TestSchedulerRebalance), with the §13 #23 fix.
    [Fact(DisplayName = "Rebalance: waits for all spans Replicating; ends when balanced or a capture is Stopping; one burst of all moves; Accept ends it")]
    public void Rebalance_Lifecycle()
    {
        var scheduler = new RebalanceScheduler(random: null);
        Assert.Equal(RebalanceScheduler.SchedulerName, scheduler.Name);
        long[] current = [1, 2, 3, 4, 5, 6];
        var captures = Initialized("a", "b");
        var unbalanced = Replicating((1, "a"), (2, "a"), (3, "a"), (4, "a"), (5, "b"), (6, "b"));

        // Not triggered.
        Assert.Empty(Run(scheduler, Context(captures, unbalanced, current)));

        scheduler.Trigger();
        // No captures.
        Assert.Empty(Run(scheduler, Context(NoCaptures, unbalanced, current)));
        Assert.True(scheduler.IsRequested);

        // A current span without a set.
        Assert.Empty(Run(scheduler, Context(captures, unbalanced, [.. current, 7])));
        Assert.True(scheduler.IsRequested);

        // Not all Replicating.
        var moving = Sets(
            Set(1, ReplicationSetState.Replicating, "a"), Set(2, ReplicationSetState.Prepare, "b"),
            Set(3, ReplicationSetState.Replicating, "a"), Set(4, ReplicationSetState.Replicating, "a"),
            Set(5, ReplicationSetState.Replicating, "b"), Set(6, ReplicationSetState.Replicating, "b"));
        Assert.Empty(Run(scheduler, Context(captures, moving, current)));
        Assert.True(scheduler.IsRequested);

        // Balanced (2 and 2): nothing to do, and the request ends (§13 #23; Go kept it set).
        var balanced = Replicating((1, "a"), (2, "a"), (3, "b"), (4, "b"));
        Assert.Empty(Run(scheduler, Context(captures, balanced, [1, 2, 3, 4])));
        Assert.False(scheduler.IsRequested);

        // A Stopping capture cancels the request.
        scheduler.Trigger();
        var stopping = Captures("owner", ("a", CaptureState.Stopping), ("b", CaptureState.Initialized));
        Assert.Empty(Run(scheduler, Context(stopping, unbalanced, current)));
        Assert.False(scheduler.IsRequested);

        // Retriggered with a alive: one burst with Move(t1 → b); the request lasts until accepted.
        scheduler.Trigger();
        var burst = Assert.IsType<BurstBalanceTask>(Assert.Single(Run(scheduler, Context(captures, unbalanced, current))));
        Assert.Equal([(S(1), new CaptureId("b"))], burst.MoveTables.Select(m => (m.Span, m.Destination)));
        Assert.Empty(burst.AddTables);
        Assert.Empty(burst.RemoveTables);
        Assert.True(scheduler.IsRequested);
        burst.Accept!();
        Assert.False(scheduler.IsRequested);
        Assert.Empty(Run(scheduler, Context(captures, unbalanced, current)));
    }

    [Fact(DisplayName = "Rebalance (§13 #23): triggered on a balanced cluster it ends at once; a later imbalance causes no surprise burst — Go's flag lingered")]
    public void BalancedCluster_FlagCleared_NoSurpriseBurstLater()
    {
        var scheduler = new RebalanceScheduler(random: null);
        var captures = Initialized("a", "b");
        long[] current = [1, 2, 3, 4];

        scheduler.Trigger();
        Assert.Empty(Run(scheduler, Context(captures, Replicating((1, "a"), (2, "a"), (3, "b"), (4, "b")), current)));
        Assert.False(scheduler.IsRequested);

        // Much later the cluster becomes unbalanced (b's tables moved away by hand, say).
        var unbalanced = Replicating((1, "a"), (2, "a"), (3, "a"), (4, "a"));
        Assert.Empty(Run(scheduler, Context(captures, unbalanced, current)));
    }

    [Fact(DisplayName = "Rebalance: moves are not limited by task concurrency (all excess in one burst)")]
    public void Burst_IsUnlimited()
    {
        var scheduler = new RebalanceScheduler(random: null);
        var placement = Enumerable.Range(1, 30).Select(t => ((long)t, "a")).ToArray();
        scheduler.Trigger();

        var burst = (BurstBalanceTask)Assert.Single(Run(scheduler, Context(Initialized("a", "b", "c"), Replicating(placement), placement.Select(p => p.Item1))));

        Assert.Equal(20, burst.MoveTables.Count);
        Assert.Equal(10, burst.MoveTables.Count(m => m.Destination == "b"));
        Assert.Equal(10, burst.MoveTables.Count(m => m.Destination == "c"));
    }

    [Fact(DisplayName = "Rebalance (§13 #6): a Replicating set whose primary is unknown is ignored, no crash")]
    public void UnknownPrimary_Ignored()
    {
        var scheduler = new RebalanceScheduler(random: new SeededRandom(3));
        scheduler.Trigger();
        var sets = Replicating((1, "a"), (2, "a"), (3, "a"), (4, "a"), (5, "ghost"));

        var burst = (BurstBalanceTask)Assert.Single(Run(scheduler, Context(Initialized("a", "b"), sets, [1, 2, 3, 4, 5])));

        var move = Assert.Single(burst.MoveTables);
        Assert.Equal(new CaptureId("b"), move.Destination);
        Assert.NotEqual(S(5), move.Span);
    }
}
