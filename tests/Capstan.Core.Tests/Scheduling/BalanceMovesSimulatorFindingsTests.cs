namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using static Capstan.Core.Tests.Member.MemberFixtures;

/// <summary>
/// Regression tests for balance bugs found by the cluster simulator (src/Capstan.Simulation),
/// named with the seed that found them (replay: ./capstan simulate --seed N --profile small).
/// </summary>
public class BalanceMovesSimulatorFindingsTests
{
    [Fact(DisplayName = "Simulator seed 10 (small): counts 3, 3, 3, 1 are not balanced — one span moves to the capture with 1 (TiCDC's upper bound alone leaves them so forever)")]
    public void ThreeThreeThreeOne_MovesOneSpanToTheShortCapture()
    {
        var sets = Replicating(
            (1, "a"), (2, "a"), (3, "a"), (4, "b"), (5, "b"), (6, "b"), (7, "c"), (8, "c"), (9, "c"), (10, "d"));

        var moves = BalanceMoves.Plan(Initialized("a", "b", "c", "d").Captures, sets, 10, null, "x");

        Assert.Equal([(S(1), new CaptureId("d"))], moves.Select(m => (m.Span, m.Destination)));
    }

    [Fact(DisplayName = "Balance moves: no deficit moves while a set is not Replicating (a move in flight would make counts look short)")]
    public void DeficitMoves_WaitUntilEverySetReplicates()
    {
        var sets = Sets(
            Set(1, ReplicationSetState.Replicating, "a"), Set(2, ReplicationSetState.Replicating, "a"),
            Set(3, ReplicationSetState.Replicating, "b"), Set(4, ReplicationSetState.Replicating, "b"),
            Set(5, ReplicationSetState.Prepare, "a"));

        Assert.Empty(BalanceMoves.Plan(Initialized("a", "b", "c").Captures, sets, 10, null, "x"));
    }

    [Fact(DisplayName = "Balance moves: with any seed and every set Replicating, one plan leaves counts differing by at most one")]
    public void RandomPlans_LeaveCountsWithinOne()
    {
        for (ulong seed = 1; seed <= 300; seed++)
        {
            var shape = new SeededRandom(seed);
            int captureCount = 1 + shape.Next(6);
            int tableCount = shape.Next(80);
            var ids = Enumerable.Range(0, captureCount).Select(i => $"c{i}").ToArray();
            var sets = Replicating(Enumerable.Range(1, tableCount).Select(t => ((long)t, ids[shape.Next(captureCount)])).ToArray());

            var moves = BalanceMoves.Plan(Initialized(ids).Captures, sets, int.MaxValue, new SeededRandom(seed), "x");

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

            Assert.True(load.Values.Max() - load.Values.Min() <= 1, $"seed {seed}: loads {string.Join(",", load.Values)}");
        }
    }
}
