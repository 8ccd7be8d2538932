namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;

public class DrainCaptureSchedulerTests
{
    private static DrainCaptureScheduler NewScheduler(int maxTaskConcurrency = 10, string owner = "owner") =>
        new(owner, new SchedulerConfig { MaxTaskConcurrency = maxTaskConcurrency });

    private static List<MoveTableTask> Run(DrainCaptureScheduler scheduler, SchedulingContext context)
    {
        var tasks = new List<ScheduleTask>();
        scheduler.Schedule(context, tasks);
        return tasks.Cast<MoveTableTask>().ToList();
    }

    // §10.6 #7 (TestDrainCapture)
    [Fact(DisplayName = "Drain: nothing without a target; a target with no tables or unknown is reset; waits while sets are not all Replicating; moves up to the limit")]
    public void DrainCapture_Lifecycle()
    {
        var scheduler = NewScheduler();
        Assert.Equal(DrainCaptureScheduler.SchedulerName, scheduler.Name);
        var empty = new SpanMap<ReplicationSet>();
        Assert.Empty(Run(scheduler, Context(NoCaptures, empty)));
        Assert.True(scheduler.Target.IsNone);

        Assert.True(scheduler.SetTarget("a"));
        Assert.Empty(Run(scheduler, Context(NoCaptures, empty)));
        Assert.True(scheduler.Target.IsNone); // no destination at all → reset

        Assert.True(scheduler.SetTarget("b"));
        Assert.Empty(Run(scheduler, Context(Initialized("a"), empty)));
        Assert.True(scheduler.Target.IsNone); // b is not a capture and holds nothing → reset

        var captures = Initialized("a", "b");
        var notAllReplicating = Sets(
            Set(1, ReplicationSetState.Replicating, "a"),
            Set(2, ReplicationSetState.Commit, "a"),
            Set(3, ReplicationSetState.Prepare, "a"),
            Set(6, ReplicationSetState.Replicating, "b"));
        Assert.True(scheduler.SetTarget("a"));
        Assert.False(scheduler.SetTarget("b"));
        Assert.Empty(Run(scheduler, Context(captures, notAllReplicating)));
        Assert.Equal(new CaptureId("a"), scheduler.Target); // kept, retried later

        var replicating = Replicating((1, "a"), (2, "a"), (3, "a"), (4, "b"), (6, "b"), (7, "b"));
        var moves = Run(scheduler, Context(captures, replicating));
        Assert.Equal([(S(1), "b"), (S(2), "b"), (S(3), "b")], moves.Select(m => (m.Span, m.Destination.Value)));
        Assert.All(moves, m => Assert.Null(m.Accept));
        Assert.Equal(new CaptureId("a"), scheduler.Target);

        var limited = NewScheduler(maxTaskConcurrency: 1);
        Assert.True(limited.SetTarget("a"));
        Assert.Single(Run(limited, Context(captures, replicating)));
        Assert.Equal(new CaptureId("a"), limited.Target);
    }

    // §10.6 #8 (TestDrainStoppingCapture)
    [Fact(DisplayName = "Drain: a non-owner Stopping capture becomes the target automatically and its table moves away")]
    public void StoppingCapture_IsAdoptedAsTarget()
    {
        var scheduler = NewScheduler();
        Assert.Empty(Run(scheduler, Context(NoCaptures, new SpanMap<ReplicationSet>())));

        var captures = Captures("owner", ("a", CaptureState.Initialized), ("b", CaptureState.Stopping));
        var moves = Run(scheduler, Context(captures, Replicating((1, "a"), (2, "b"))));

        var move = Assert.Single(moves);
        Assert.Equal((S(2), new CaptureId("a")), (move.Span, move.Destination));
        Assert.Equal(new CaptureId("b"), scheduler.Target);
    }

    // §10.6 #9 (TestDrainSkipOwner)
    [Fact(DisplayName = "Drain: a Stopping owner is never adopted automatically")]
    public void StoppingOwner_IsNotAdopted()
    {
        var scheduler = NewScheduler(owner: "b");
        var captures = Captures("b", ("a", CaptureState.Initialized), ("b", CaptureState.Stopping));

        Assert.Empty(Run(scheduler, Context(captures, Replicating((1, "a"), (2, "b")))));
        Assert.True(scheduler.Target.IsNone);
    }

    // §10.6 #10 (TestDrainImbalanceCluster)
    [Fact(DisplayName = "Drain: draining a (2 tables) onto an empty owner b moves both, target kept")]
    public void ImbalancedCluster_MovesAll()
    {
        var scheduler = NewScheduler(owner: "b");
        Assert.True(scheduler.SetTarget("a"));

        var moves = Run(scheduler, Context(Captures("b", ("a", CaptureState.Initialized), ("b", CaptureState.Initialized)), Replicating((1, "a"), (2, "a"))));

        Assert.Equal(2, moves.Count);
        Assert.All(moves, m => Assert.Equal(new CaptureId("b"), m.Destination));
        Assert.Equal(new CaptureId("a"), scheduler.Target);
    }

    // §10.6 #11 (TestDrainEvenlyDistributedTables)
    [Fact(DisplayName = "Drain: a (3 tables), b (1), c (0) → b receives 1, c receives 2")]
    public void EvenlyDistributed()
    {
        var scheduler = NewScheduler(owner: "b");
        Assert.True(scheduler.SetTarget("a"));
        var captures = Captures("b", ("a", CaptureState.Initialized), ("b", CaptureState.Initialized), ("c", CaptureState.Initialized));

        var moves = Run(scheduler, Context(captures, Replicating((1, "a"), (2, "a"), (3, "a"), (6, "b"))));

        Assert.Equal(3, moves.Count);
        Assert.Equal(1, moves.Count(m => m.Destination == "b"));
        Assert.Equal(2, moves.Count(m => m.Destination == "c"));
    }

    [Fact(DisplayName = "Drain (§13 #6): a primary that is not a known capture is never a destination — Go counted it as one")]
    public void UnknownPrimary_NeverADestination()
    {
        var scheduler = NewScheduler();
        Assert.True(scheduler.SetTarget("a"));
        // Go counts ghost's primary as workload 1 < b's 2 and sends the first victim to ghost.
        var sets = Replicating((1, "a"), (2, "a"), (3, "a"), (4, "b"), (5, "b"), (6, "ghost"));

        var moves = Run(scheduler, Context(Initialized("a", "b"), sets));

        Assert.Equal(3, moves.Count);
        Assert.All(moves, m => Assert.Equal(new CaptureId("b"), m.Destination));
    }

    [Fact(DisplayName = "Drain (§13 #25): no move ever goes to a Stopping or Uninitialized capture")]
    public void StoppingOrUninitialized_NeverADestination()
    {
        var scheduler = NewScheduler();
        var captures = Captures("owner",
            ("a", CaptureState.Stopping), ("b", CaptureState.Stopping), ("c", CaptureState.Uninitialized), ("d", CaptureState.Initialized));

        var moves = Run(scheduler, Context(captures, Replicating((1, "a"), (2, "a"), (3, "a"), (4, "d"), (5, "d"), (6, "d"))));

        Assert.Equal(new CaptureId("a"), scheduler.Target); // the smallest Stopping id
        Assert.Equal(3, moves.Count);
        Assert.All(moves, m => Assert.Equal(new CaptureId("d"), m.Destination));
    }

    [Fact(DisplayName = "Drain: with no Initialized destination left the target is released")]
    public void NoInitializedDestination_ReleasesTarget()
    {
        var scheduler = NewScheduler();
        var captures = Captures("owner", ("a", CaptureState.Stopping), ("b", CaptureState.Stopping));

        Assert.Empty(Run(scheduler, Context(captures, Replicating((1, "a"), (2, "b")))));
        Assert.True(scheduler.Target.IsNone);
    }

    [Fact(DisplayName = "Drain: ties between destinations go to the smallest capture id")]
    public void Ties_GoToSmallestId()
    {
        var scheduler = NewScheduler();
        Assert.True(scheduler.SetTarget("z"));
        var captures = Initialized("z", "c", "b");

        var moves = Run(scheduler, Context(captures, Replicating((1, "z"), (2, "z"), (3, "z"))));

        Assert.Equal(["b", "c", "b"], moves.Select(m => m.Destination.Value));
    }

    [Fact(DisplayName = "Drain: SetTarget refuses None and a second target")]
    public void SetTarget_RefusesNoneAndSecond()
    {
        var scheduler = NewScheduler();
        Assert.False(scheduler.SetTarget(CaptureId.None));
        Assert.True(scheduler.SetTarget("a"));
        Assert.False(scheduler.SetTarget("a"));
        Assert.False(scheduler.SetTarget("b"));
        Assert.Equal(new CaptureId("a"), scheduler.Target);
    }
}
