namespace Capstan.Simulation.Tests;

/// <summary>
/// One test per bug the simulator found, named with its seed. Each seed fails under the current
/// simulator when its core fix is reverted, and passes with it; the core also has a unit test
/// for each (…SimulatorFindingsTests). Replay: ./capstan simulate --seed N --profile small.
/// </summary>
public class RegressionTests
{
    private static readonly RunSpec Small = new() { Profile = SimulationProfile.Small };

    [Fact(DisplayName = "Seed 11: a table created while the owner's checkpoint write is in flight no longer pulls the persisted checkpoint back (CheckpointRegression)")]
    public void Seed11_NewTableWhileCheckpointWriteInFlight_NoRegression() => SimulationAssert.Passes(Small, 11);

    [Fact(DisplayName = "Seed 2: balance evens counts to within one (TiCDC's ceil bound left 3, 3, 2, 1, 2 for ever: Liveness)")]
    public void Seed2_BalanceConvergesToWithinOne() => SimulationAssert.Passes(Small, 2);

    [Fact(DisplayName = "Seed 95: a table dropped mid-move whose destination dies no longer keeps an ignored remove task running for ever (Liveness)")]
    public void Seed95_TaskOfASetThatFellToAbsentIsReaped() => SimulationAssert.Passes(Small, 95);

    [Fact(DisplayName = "Seed 1083: a capture back in membership before its removal applied no longer gets a stray prepare that leaves an orphan pipeline (Liveness)")]
    public void Seed1083_ReportsOfACaptureBackBeforeItsRemovalWait() => SimulationAssert.Passes(Small, 1083);

    [Fact(DisplayName = "Seed 2620: the same orphan-pipeline bug, reached through a different schedule")]
    public void Seed2620_ReportsOfACaptureBackBeforeItsRemovalWait() => SimulationAssert.Passes(Small, 2620);

    [Fact(DisplayName = "Seed 348 (unordered links): a capture paused until the faults stop is not accused of missing its fence (a simulator false alarm)")]
    public void Seed348_PausedCaptureIsNotAccusedOfMissingItsFence() => SimulationAssert.Passes(Small with { UnorderedLinks = true }, 348);
}
