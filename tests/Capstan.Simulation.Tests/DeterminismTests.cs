namespace Capstan.Simulation.Tests;

using Capstan.Core.Model;

/// <summary>A run is a pure function of its seed and options: that is what makes a seed a bug report.</summary>
public class DeterminismTests
{
    [Theory(DisplayName = "Determinism: the same seed twice gives the identical trace hash, ticks and checkpoint")]
    [InlineData(SimulationProfile.Small, 7UL)]
    [InlineData(SimulationProfile.Small, 1083UL)]
    [InlineData(SimulationProfile.Swarm, 3UL)]
    public void SameSeedTwice_IdenticalTrace(SimulationProfile profile, ulong seed)
    {
        var spec = new RunSpec { Profile = profile, Tables = profile == SimulationProfile.Swarm ? 150 : null, FaultTicks = profile == SimulationProfile.Swarm ? 300 : null };

        var first = SimulationAssert.Passes(spec, seed);
        var second = SimulationAssert.Passes(spec, seed);

        Assert.Equal(first.TraceHash, second.TraceHash);
        Assert.Equal(first.Ticks, second.Ticks);
        Assert.Equal(first.FinalCheckpoint, second.FinalCheckpoint);
        Assert.Equal(first.Stats.MessagesSent, second.Stats.MessagesSent);
    }

    [Fact(DisplayName = "Determinism: different seeds give different runs")]
    public void DifferentSeeds_DifferentTraces()
    {
        var spec = new RunSpec { Profile = SimulationProfile.Small };

        Assert.NotEqual(SimulationAssert.Passes(spec, 21).TraceHash, SimulationAssert.Passes(spec, 22).TraceHash);
    }

    [Fact(DisplayName = "Determinism: the trace capacity changes what is kept for the excerpt, not the run")]
    public void TraceCapacity_DoesNotChangeTheRun()
    {
        var small = SimulationAssert.Passes(new RunSpec { Profile = SimulationProfile.Small, TraceCapacity = 100 }, 9);
        var large = SimulationAssert.Passes(new RunSpec { Profile = SimulationProfile.Small, TraceCapacity = 50_000 }, 9);

        Assert.Equal(small.TraceHash, large.TraceHash);
    }

    [Fact(DisplayName = "Options: every drawn configuration of both profiles is valid, and a seed always draws the same one")]
    public void DrawnOptions_AreValidAndReproducible()
    {
        foreach (var profile in new[] { SimulationProfile.Small, SimulationProfile.Swarm })
        {
            for (ulong seed = 1; seed <= 500; seed++)
            {
                var options = SimulationOptions.Draw(profile, new SeededRandom(seed));
                options.Validate();
                Assert.Equal(options, SimulationOptions.Draw(profile, new SeededRandom(seed)));
                if (profile == SimulationProfile.Swarm)
                {
                    Assert.InRange(options.Captures, 1, 16);
                    Assert.InRange(options.InitialTables, 1, 5000);
                }
            }
        }
    }
}
