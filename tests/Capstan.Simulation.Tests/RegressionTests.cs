namespace Capstan.Simulation.Tests;

/// <summary>
/// One test per bug the simulator found, named with a seed that breaks a check under the current
/// simulator when the bug's core fix is reverted (and passes with it). The core also has a unit
/// test for each (…SimulatorFindingsTests), which stays meaningful when the simulator changes
/// (any change to it or to the core shifts what a seed does). Replay: ./capstan simulate --seed N --profile small.
/// </summary>
public class RegressionTests
{
    private static readonly RunSpec Small = new() { Profile = SimulationProfile.Small };

    [Theory(DisplayName = "Checkpoint regression: a table created while the owner's checkpoint write is in flight no longer pulls the persisted checkpoint back")]
    [InlineData(11UL)]
    [InlineData(15UL)]
    public void NewTableWhileCheckpointWriteInFlight_NoRegression(ulong seed) => SimulationAssert.Passes(Small, seed);

    [Theory(DisplayName = "Liveness: balance evens span counts to within one (TiCDC's ceil bound alone leaves e.g. 3, 3, 2, 1, 2 for ever)")]
    [InlineData(10UL)]
    [InlineData(24UL)]
    public void BalanceConvergesToWithinOne(ulong seed) => SimulationAssert.Passes(Small, seed);

    [Theory(DisplayName = "Liveness: a table dropped mid-move whose destination dies no longer keeps an ignored remove task running for ever")]
    [InlineData(95UL)]
    [InlineData(2986UL)]
    public void TaskOfASetThatFellToAbsentIsReaped(ulong seed) => SimulationAssert.Passes(Small, seed);

    [Theory(DisplayName = "Liveness: a capture back in membership before its removal applied no longer gets a stray prepare that leaves an orphan pipeline")]
    [InlineData(2332UL)]
    [InlineData(2620UL)]
    public void ReportsOfACaptureBackBeforeItsRemovalWait(ulong seed) => SimulationAssert.Passes(Small, seed);

    [Theory(DisplayName = "Double sink: when both ends of a move restart in one tick, the destination's new incarnation gets no commit meant for its former one")]
    [InlineData(211UL)]
    [InlineData(1816UL)]
    public void NoCommitToARestartedDestination(ulong seed) => SimulationAssert.Passes(Small, seed);

    [Theory(DisplayName = "Liveness: a drained capture restarted by the operator comes back Alive, not Stopping again (a drain is of an incarnation)")]
    [InlineData(35UL)]
    [InlineData(145UL)]
    public void DrainedCaptureRestartsAlive(ulong seed) => SimulationAssert.Passes(Small, seed);

    [Fact(DisplayName = "Simulator false alarm, seed 348 with unordered links: a capture paused until the faults stop is not accused of missing its fence")]
    public void PausedCaptureIsNotAccusedOfMissingItsFence() => SimulationAssert.Passes(Small with { UnorderedLinks = true }, 348);
}
