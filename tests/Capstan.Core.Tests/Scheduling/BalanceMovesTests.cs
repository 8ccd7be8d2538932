namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;

public class BalanceMovesTests
{
    [Fact(DisplayName = "Balance moves: {a: t1, t2}, b empty, no randomness → move t1 to b")]
    public void TwoOnOne_MovesFirstSpan()
    {
        var moves = BalanceMoves.Plan(Initialized("a", "b").Captures, Replicating((1, "a"), (2, "a")), 10, null, "x");

        Assert.Equal([(S(1), new CaptureId("b"))], moves.Select(m => (m.Span, m.Destination)));
        Assert.All(moves, m => Assert.Equal("x", m.Scheduler));
    }

    [Fact(DisplayName = "Balance moves: the upper bound counts every set, whatever its state")]
    public void UpperBound_CountsAllSets()
    {
        // 3 Replicating on a plus 3 Absent sets: upper = ceil(6 / 2) = 3, so a is not over it.
        var sets = Sets(
            Set(1, ReplicationSetState.Replicating, "a"), Set(2, ReplicationSetState.Replicating, "a"),
            Set(3, ReplicationSetState.Replicating, "a"), Set(4, ReplicationSetState.Absent),
            Set(5, ReplicationSetState.Absent), Set(6, ReplicationSetState.Absent));

        Assert.Empty(BalanceMoves.Plan(Initialized("a", "b").Captures, sets, 10, null, "x"));
    }

    [Fact(DisplayName = "Balance moves: an Uninitialized capture takes no part (never a destination)")]
    public void UninitializedCapture_NotADestination()
    {
        var captures = Captures("owner", ("a", CaptureState.Initialized), ("b", CaptureState.Uninitialized));

        Assert.Empty(BalanceMoves.Plan(captures.Captures, Replicating((1, "a"), (2, "a")), 10, null, "x"));
    }

    [Fact(DisplayName = "Balance moves: with any seed, the plan is reproducible, moves only excess Replicating spans, and leaves every capture ≤ upper")]
    public void RandomPlans_AreBalancedAndReproducible()
    {
        for (ulong seed = 1; seed <= 300; seed++)
        {
            var shape = new SeededRandom(seed);
            int captureCount = 1 + shape.Next(5);
            int tableCount = shape.Next(61);
            var ids = Enumerable.Range(0, captureCount).Select(i => $"c{i}").ToArray();
            var placementRandom = new SeededRandom(seed);
            var sets = Replicating(Enumerable.Range(1, tableCount)
                .Select(t => ((long)t, ids[placementRandom.Next(Math.Max(1, captureCount - 1))])).ToArray());
            var captures = Initialized(ids).Captures;

            var moves = BalanceMoves.Plan(captures, sets, int.MaxValue, new SeededRandom(seed), "x");
            var again = BalanceMoves.Plan(captures, sets, int.MaxValue, new SeededRandom(seed), "x");

            Assert.True(moves.Select(m => (m.Span, m.Destination)).SequenceEqual(again.Select(m => (m.Span, m.Destination))), $"seed {seed}");
            Assert.True(moves.Count == moves.Select(m => m.Span).Distinct().Count(), $"seed {seed}: a span moved twice");
            var load = ids.ToDictionary(id => new CaptureId(id), _ => 0);
            foreach (ref readonly var entry in sets.Ordered())
            {
                load[entry.Value.Primary]++;
            }

            foreach (var move in moves)
            {
                Assert.True(sets.TryGetValue(move.Span, out var set), $"seed {seed}");
                load[set.Primary]--;
                load[move.Destination]++;
            }

            int upper = (tableCount + captureCount - 1) / captureCount;
            Assert.True(load.Values.All(l => l <= upper), $"seed {seed}: loads {string.Join(",", load.Values)} upper {upper}");
        }
    }
}
