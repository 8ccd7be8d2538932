namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;
using static LoadBalanceFixtures;

public class LoadBalanceMovesTests
{
    [Fact(DisplayName = "Weight: write rate + 1; no stats counts as idle (1); absurd rates are capped")]
    public void WeightOf_RatePlusIdle_Capped()
    {
        Assert.Equal(1, LoadBalanceMoves.WeightOf(Set(1, ReplicationSetState.Replicating)));
        Assert.Equal(11, LoadBalanceMoves.WeightOf(Loaded(1, "a", 10)));
        Assert.Equal(LoadBalanceMoves.MaxWeight, LoadBalanceMoves.WeightOf(Loaded(1, "a", ulong.MaxValue)));
        Assert.Equal(LoadBalanceMoves.MaxWeight, LoadBalanceMoves.WeightOf(Loaded(1, "a", (ulong)LoadBalanceMoves.MaxWeight)));
    }

    [Fact(DisplayName = "Load plan: without stats every span weighs 1 → 4 idle spans on a, b empty → the first two (span order) go to b, as count balance would")]
    public void NoStats_BehavesLikeCounts()
    {
        var moves = PlanLoad(Initialized("a", "b"), Replicating((1, "a"), (2, "a"), (3, "a"), (4, "a")));

        Assert.Equal([(1L, "b"), (2L, "b")], Describe(moves));
        Assert.All(moves, m => Assert.Equal("test", m.Scheduler));
    }

    [Fact(DisplayName = "Load plan: ties go to the smallest capture id and the first span in span order")]
    public void Ties_SmallestCaptureId_FirstSpan()
    {
        var moves = PlanLoad(Initialized("c", "a", "b"), Replicating((1, "a"), (2, "a"), (3, "a"), (4, "a")));

        Assert.Equal([(1L, "b"), (2L, "c")], Describe(moves));
    }

    [Fact(DisplayName = "Load plan: a capture with hot spans gives away the span closest to half the gap; the max ends at the heaviest span")]
    public void HotSpans_BestFit_ReachHeaviestSpan()
    {
        (long, string, ulong)[] placement = [(1, "a", 1000), (2, "a", 600), (3, "a", 400), (4, "a", 0)];

        var moves = PlanLoad(Initialized("a", "b", "c"), Loads(placement));

        // Gap 2004 → t1 (1001, closest to 1002) to b; gap 1003 → t2 (601 lowers a to 402) beats t3 (401 lowers it to 602).
        Assert.Equal([(1L, "b"), (2L, "c")], Describe(moves));
        Assert.Equal(new Dictionary<string, long> { ["a"] = 402, ["b"] = 1001, ["c"] = 601 }, LoadsAfter(placement, moves));
    }

    [Fact(DisplayName = "Load plan: a cut smaller than MinImprovement × mean is not made; with a lower margin it is")]
    public void SmallCut_BelowMargin_NoMove()
    {
        // a = 1001 + 20 + 20 = 1041, b = 1001; mean 1021: the best plan cuts the imbalance by 20/1021 ≈ 2 %.
        var sets = Loads((1, "a", 1000), (2, "a", 19), (3, "a", 19), (4, "b", 1000));
        var captures = Initialized("a", "b");

        Assert.Empty(PlanLoad(captures, sets, minImprovement: 0.05));
        Assert.Equal([(2L, "b")], Describe(PlanLoad(captures, sets, minImprovement: 0.01)));
    }

    [Fact(DisplayName = "Load plan: a large imbalance that moves can only shave a little off (granularity) → no move at all")]
    public void LargeImbalance_ButTinyAchievableCut_NoMove()
    {
        // a = 601 + 601 + 5, b = 1001: a is 9 % above the mean, but only the 5-span can move (cut 0.5 %).
        var sets = Loads((1, "a", 600), (2, "a", 600), (3, "a", 4), (4, "b", 1000));

        Assert.Empty(PlanLoad(Initialized("a", "b"), sets));
    }

    [Fact(DisplayName = "Load plan: the most-loaded capture's only span cannot move → it is set aside and the next overloaded capture is balanced")]
    public void UnmovableHeaviest_SetAside_RestBalanced()
    {
        (long, string, ulong)[] placement = [(1, "a", 5000), (2, "b", 1500), (3, "b", 1500), (4, "b", 1500)];

        var moves = PlanLoad(Initialized("a", "b", "c"), Loads(placement));

        Assert.Equal([(2L, "c")], Describe(moves));
        Assert.Equal(new Dictionary<string, long> { ["a"] = 5001, ["b"] = 3002, ["c"] = 1501 }, LoadsAfter(placement, moves));
    }

    [Fact(DisplayName = "Load plan: a span being moved counts on its destination and is not moved again: nothing more piles onto b")]
    public void InFlightMove_CountsOnDestination()
    {
        var sets = Sets(Loaded(1, "a", 1000), Moving(2, "a", "b", 1000), Loaded(3, "a", 1000));
        Assert.Equal(ReplicationSetState.Prepare, sets.Ordered()[1].Value.State);

        Assert.Empty(PlanLoad(Initialized("a", "b"), sets));

        var loads = LoadBalanceMoves.Measure(Initialized("a", "b").Captures, sets);
        Assert.Equal(2002, loads.ByCapture[new CaptureId("a")]);
        Assert.Equal(1001, loads.ByCapture[new CaptureId("b")]);
    }

    [Fact(DisplayName = "Load plan: never moves to an Uninitialized or Stopping capture")]
    public void OnlyInitializedDestinations()
    {
        var sets = Loads((1, "a", 1000), (2, "a", 1000), (3, "a", 1000));
        var captures = Captures("owner", ("a", CaptureState.Initialized), ("b", CaptureState.Uninitialized), ("c", CaptureState.Stopping), ("d", CaptureState.Initialized));

        var moves = PlanLoad(captures, sets);

        Assert.Equal([(1L, "d")], Describe(moves));
    }

    [Fact(DisplayName = "Load plan: limit 2 of a longer plan → its first two moves")]
    public void Limit_TakesPlanPrefix()
    {
        var sets = Loads((1, "a", 900), (2, "a", 800), (3, "a", 700), (4, "a", 600), (5, "a", 500), (6, "a", 400));
        var captures = Initialized("a", "b", "c");
        var full = PlanLoad(captures, sets);
        Assert.True(full.Count > 2, $"full plan: {string.Join(", ", Describe(full))}");

        var limited = PlanLoad(captures, sets, limit: 2);

        Assert.Equal(Describe(full).Take(2), Describe(limited));
        Assert.Empty(PlanLoad(captures, sets, limit: 0));
    }

    [Fact(DisplayName = "Load plan: a span cooling down stays put; the next best span moves instead")]
    public void CoolingSpan_NotMoved()
    {
        var sets = Loads((1, "a", 1000), (2, "a", 1000), (3, "a", 990));
        var cooldown = new MoveCooldown(100);
        cooldown.Record(S(1), tick: 50);

        var moves = LoadBalanceMoves.Plan(Initialized("a", "b").Captures, sets, 10, 0.05, cooldown, tick: 149, "test");
        Assert.Equal([(2L, "b")], Describe(moves));

        moves = LoadBalanceMoves.Plan(Initialized("a", "b").Captures, sets, 10, 0.05, cooldown, tick: 150, "test");
        Assert.Equal([(1L, "b")], Describe(moves));
    }

    [Fact(DisplayName = "Load plan (§13 #6, Go crashed): a Replicating set whose primary is not a known capture is ignored, not moved, no crash")]
    public void UnknownPrimary_Ignored_NoCrash_GoBug6()
    {
        var sets = Loads((1, "a", 1000), (2, "a", 1000), (3, "ghost", 5000));

        var moves = PlanLoad(Initialized("a", "b"), sets);

        Assert.Equal([(1L, "b")], Describe(moves));
        Assert.False(LoadBalanceMoves.Measure(Initialized("a", "b").Captures, sets).ByCapture.ContainsKey(new CaptureId("ghost")));
    }

    [Fact(DisplayName = "Load plan: one capture or none → nothing; a balanced cluster → nothing")]
    public void Degenerate_NoMoves()
    {
        var sets = Loads((1, "a", 1000), (2, "b", 1000));
        Assert.Empty(PlanLoad(Initialized("a"), sets));
        Assert.Empty(PlanLoad(Initialized(), sets));
        Assert.Empty(PlanLoad(Initialized("a", "b"), sets));
        Assert.Empty(PlanLoad(Initialized("a", "b"), new SpanMap<ReplicationSet>()));
    }

    [Theory(DisplayName = "Load plan: every plan lowers the overload, never raises a capture above the old maximum, and moves each span once")]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(42UL)]
    [InlineData(1234UL)]
    public void RandomLayouts_PlansAreSound(ulong seed)
    {
        var random = new SeededRandom(seed);
        for (int round = 0; round < 50; round++)
        {
            int captureCount = 2 + random.Next(5);
            var ids = Enumerable.Range(0, captureCount).Select(i => ((char)('a' + i)).ToString()).ToArray();
            var placement = Enumerable.Range(1, 1 + random.Next(40))
                .Select(t => ((long)t, ids[random.Next(captureCount)], (ulong)(random.Next(4) == 0 ? random.Next(5000) : random.Next(50))))
                .ToArray();

            var moves = PlanLoad(Initialized(ids), Loads(placement), minImprovement: 0);

            var before = LoadsAfter(placement, []);
            var after = LoadsAfter(placement, moves);
            long oldMax = before.Values.Max();
            string context = $"seed {seed} round {round}: {string.Join(", ", placement)} → {string.Join(", ", Describe(moves))}";
            Assert.True(after.Values.Max() <= oldMax, context);
            Assert.Equal(moves.Count, moves.Select(m => m.Span).Distinct().Count());
            Assert.True(moves.Count == 0 || Overload(after, ids) < Overload(before, ids), context);
        }
    }

    [Fact(DisplayName = "Load plan: a balanced cluster costs one pass and no per-span allocation (10× the sets, same bytes)")]
    public void Balanced_NoPerSpanAllocation()
    {
        long small = AllocatedByBalancedPlan(1_000);
        long large = AllocatedByBalancedPlan(10_000);

        Assert.True(large <= small + 256, $"1,000 sets: {small} B, 10,000 sets: {large} B");
    }

    private static long AllocatedByBalancedPlan(int setCount)
    {
        var captures = Initialized("a", "b", "c", "d").Captures;
        var sets = new SpanMap<ReplicationSet>();
        string[] ids = ["a", "b", "c", "d"];
        for (int t = 1; t <= setCount; t++)
        {
            sets.Set(S(t), Loaded(t, ids[t % 4], (ulong)(t % 7)));
        }

        LoadBalanceMoves.Plan(captures, sets, 10, 0.05, null, 0, "warm-up");
        long start = GC.GetAllocatedBytesForCurrentThread();
        var moves = LoadBalanceMoves.Plan(captures, sets, 10, 0.05, null, 0, "test");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - start;
        Assert.Empty(moves);
        return allocated;
    }

    private static double Overload(Dictionary<string, long> loads, string[] ids)
    {
        double mean = (double)loads.Values.Sum() / ids.Length;
        return ids.Sum(id => Math.Max(0, loads.GetValueOrDefault(id) - mean));
    }
}
