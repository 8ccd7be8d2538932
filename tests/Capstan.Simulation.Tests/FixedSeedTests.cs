namespace Capstan.Simulation.Tests;

/// <summary>
/// A fixed set of seeds of the small profile (1–5 captures, up to 40 tables, every fault), each
/// with every safety check on every tick and the liveness phase. Two classes so that xunit runs
/// them on both cores. A failure prints the seed, the replay command and the trace excerpt.
/// </summary>
public class FixedSeedTestsFirstHalf
{
    private static readonly RunSpec Small = new() { Profile = SimulationProfile.Small, TraceCapacity = 4_000 };

    [Theory(DisplayName = "Small profile, seeds 1–180: safe on every tick, then converges within the liveness bound")]
    [InlineData(1UL, 60UL)]
    [InlineData(61UL, 120UL)]
    [InlineData(121UL, 180UL)]
    public void SmallSeeds_AreSafeAndLive(ulong first, ulong last) => SimulationAssert.AllPass(Small, first, last);
}

/// <summary>The second half of the fixed seeds, plus a few larger clusters.</summary>
public class FixedSeedTestsSecondHalf
{
    private static readonly RunSpec Small = new() { Profile = SimulationProfile.Small, TraceCapacity = 4_000 };

    [Theory(DisplayName = "Small profile, seeds 181–360: safe on every tick, then converges within the liveness bound")]
    [InlineData(181UL, 240UL)]
    [InlineData(241UL, 300UL)]
    [InlineData(301UL, 360UL)]
    public void SmallSeeds_AreSafeAndLive(ulong first, ulong last) => SimulationAssert.AllPass(Small, first, last);

    [Theory(DisplayName = "Swarm profile with at most 200 tables and 300 fault ticks: larger clusters are safe and live")]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    public void SwarmSeeds_WithFewerTables_AreSafeAndLive(ulong seed)
    {
        var spec = new RunSpec { Profile = SimulationProfile.Swarm, Tables = 200, FaultTicks = 300, TraceCapacity = 4_000 };
        SimulationAssert.Passes(spec, seed);
    }
}
